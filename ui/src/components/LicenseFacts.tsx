import type { License } from "../bindings/License";
import type { SupportWindow } from "../bindings/SupportWindow";
import type { LookupSale } from "../bindings/LookupSale";
import { CopyButton } from "./CopyButton";

export function supportText(s: SupportWindow | null | undefined) {
  if (!s || !s.until) return "No support";
  const date = new Date(s.until).toLocaleDateString();
  if (s.expired) return `Expired on ${date}`;
  return `Until ${date} (${s.days_left} day${s.days_left === 1 ? "" : "s"} left)`;
}

/** The facts support staff look for, as a definition list. */
export function LicenseFacts({ license: l, support }: { license: License; support: SupportWindow | null }) {
  const rows: [string, React.ReactNode, string][] = [
    ["Product", l.product_name, "fact-product"],
    ["Item", l.envato_item_id ? `${l.item_name ?? "Envato item"} (#${l.envato_item_id})` : "—", "fact-item"],
    ["Marketplace", l.marketplace ?? "—", "fact-marketplace"],
    ["Buyer", l.buyer ?? (l.source === "envato" ? "Guest checkout" : "—"), "fact-buyer"],
    ["License type", l.envato_license ?? l.license_type, "fact-type"],
    ["Sold at", l.sold_at ? new Date(l.sold_at).toLocaleString() : "—", "fact-sold"],
    ["Amount", l.amount ? `${l.amount} USD` : "—", "fact-amount"],
    ["Support", supportText(support), "fact-support"],
    ["Purchases", l.purchase_count ? `${l.purchase_count} of this item by this buyer` : "—", "fact-purchases"],
    ["Status", <span className={`pill ${l.status}`}>{l.status}</span>, "fact-status"],
    ["Activations", `${l.activations_used} of ${l.activation_limit}`, "fact-activations"],
  ];
  return (
    <dl className="facts">
      <dt>License key</dt>
      <dd className="mono">
        <span data-testid="fact-key">{l.license_key}</span> <CopyButton text={l.license_key} />
      </dd>
      {l.purchase_code && (
        <>
          <dt>Purchase code</dt>
          <dd className="mono">
            <span data-testid="fact-code">{l.purchase_code}</span> <CopyButton text={l.purchase_code} testid="copy-code" />
          </dd>
        </>
      )}
      <FactRows rows={rows} />
    </dl>
  );
}

/** What Envato says was sold, for a genuine purchase that has no license yet (no product). */
export function SaleFacts({ sale: s, support }: { sale: LookupSale; support?: SupportWindow | null }) {
  const rows: [string, React.ReactNode, string][] = [
    ["Item", s.item_id ? `${s.item_name ?? "Envato item"} (#${s.item_id})` : "—", "sale-item"],
    ["Marketplace", s.marketplace ?? "—", "sale-marketplace"],
    ["Buyer", s.buyer ?? "Guest checkout", "sale-buyer"],
    ["License type", s.envato_license ?? "—", "sale-type"],
    ["Sold at", s.sold_at ? new Date(s.sold_at).toLocaleString() : "—", "sale-sold"],
    ["Amount", s.amount ? `${s.amount} ${s.currency}` : "—", "sale-amount"],
    ["Support", supportText(support), "sale-support"],
    ["Purchases", s.purchase_count ? `${s.purchase_count} of this item by this buyer` : "—", "sale-purchases"],
    ["License", "None yet: the sale waits in the review queue for a product", "sale-license"],
  ];
  return <dl className="facts" data-testid="sale-facts"><FactRows rows={rows} /></dl>;
}

/** Label, value and test id of each fact, as definition-list rows. */
function FactRows({ rows }: { rows: [string, React.ReactNode, string][] }) {
  return (
    <>
      {rows.map(([k, v, id]) => (
        <div key={id} className="fact-row">
          <dt>{k}</dt>
          <dd data-testid={id}>{v}</dd>
        </div>
      ))}
    </>
  );
}
