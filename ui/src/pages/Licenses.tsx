import { useEffect, useMemo, useRef, useState } from "react";
import { keys } from "../queryKeys";
import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useVirtualizer } from "@tanstack/react-virtual";
import { useTauriEvent } from "../hooks/useTauriEvent";
import { ipc, IpcError } from "../ipc";
import type { Activation } from "../bindings/Activation";
import type { LicenseFilter } from "../bindings/LicenseFilter";
import type { LicenseStatus } from "../bindings/LicenseStatus";
import type { LicenseSort } from "../bindings/LicenseSort";
import type { SupportFilter } from "../bindings/SupportFilter";
import type { LicenseAction } from "../bindings/LicenseAction";
import { LicenseFacts } from "./LicenseFacts";
import type { License } from "../bindings/License";
import type { Product } from "../bindings/Product";

const ROW_HEIGHT = 44;

/** Licenses: fast with a million rows (keyset pages from Rust, only visible rows rendered). */
/** `open`: a license to show at once (from a lookup), found by its key and opened in the panel. */
export function Licenses({ open = null }: { open?: { id: number; key: string } | null }) {
  const [status, setStatus] = useState<LicenseStatus | "">("");
  const [product, setProduct] = useState("");
  const [marketplace, setMarketplace] = useState("");
  const [support, setSupport] = useState<SupportFilter | "">("");
  const [sort, setSort] = useState<LicenseSort>("newest");
  const [searchText, setSearchText] = useState(open?.key ?? "");
  const [search, setSearch] = useState(open?.key ?? "");
  const [selected, setSelected] = useState<number | null>(open?.id ?? null);
  const [exported, setExported] = useState<string | null>(null);
  const [exportError, setExportError] = useState<string | null>(null);
  const [creating, setCreating] = useState(false);
  const [flagged, setFlagged] = useState(false);
  const [shared, setShared] = useState(false);
  const [picked, setPicked] = useState<Set<number>>(new Set());
  const [bulkSaid, setBulkSaid] = useState<string | null>(null);
  const toggle = (id: number) => setPicked((p) => { const n = new Set(p); if (n.has(id)) n.delete(id); else n.add(id); return n; });

  // Search as you type, without a query per keystroke.
  useEffect(() => {
    const t = setTimeout(() => setSearch(searchText.trim()), 250);
    return () => clearTimeout(t);
  }, [searchText]);

  const filter: LicenseFilter = useMemo(() => ({
    status: status || undefined,
    product_id: product ? Number(product) : undefined,
    marketplace: marketplace || undefined,
    support: support || undefined,
    search: search || undefined,
    flagged: flagged || undefined,
    shared: shared || undefined,
    sort,
    limit: 200,
  }), [status, product, marketplace, support, search, sort, flagged, shared]);

  const products = useQuery({ queryKey: keys.products, queryFn: ipc.productsList });
  const markets = useQuery({ queryKey: keys.marketplaces, queryFn: ipc.marketplaces });
  const pages = useInfiniteQuery({
    queryKey: keys.licensesFiltered(filter),
    queryFn: ({ pageParam }) => ipc.licensesPage({ ...filter, cursor: pageParam ?? undefined }),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.next_cursor,
  });
  const rows = useMemo(() => pages.data?.pages.flatMap((p) => p.licenses) ?? [], [pages.data]);
  // The detail follows the list: a license that left the filtered list (a bulk action, a new
  // filter) closes its panel once the list has loaded without it.
  const listed = selected === null || !pages.isSuccess || pages.isFetching || rows.some((l) => l.id === selected);
  const panelOpen = selected !== null && listed;

  const scroller = useRef<HTMLDivElement>(null);
  // TanStack Virtual's functions are not memoisable by the React Compiler (which this app does
  // not use); the virtualiser is read fresh on every render as its documentation says.
  // eslint-disable-next-line react-hooks/incompatible-library
  const virtual = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scroller.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 12,
  });
  const items = virtual.getVirtualItems();
  const lastIndex = items.length ? items[items.length - 1].index : 0;
  useEffect(() => {
    if (lastIndex >= rows.length - 20 && pages.hasNextPage && !pages.isFetchingNextPage) void pages.fetchNextPage();
  }, [lastIndex, rows.length, pages]);

  const exportCsv = useMutation({
    mutationFn: () => ipc.licensesExport({ ...filter, limit: undefined }),
    onSuccess: (path) => { setExported(path); setExportError(null); },
    onError: (e: IpcError) => setExportError(e.message),
  });

  return (
    <section className="licenses-page">
      <header className="page-head">
        <h1>Licenses</h1>
        <div className="form-actions">
          <button type="button" className="secondary" data-testid="new-license" onClick={() => setCreating((c) => !c)}>New license</button>
          <button type="button" className="secondary" data-testid="export-csv" onClick={() => exportCsv.mutate()} disabled={exportCsv.isPending}>Export CSV</button>
        </div>
      </header>
      {creating && (
        <NewLicenseForm products={products.data ?? []} onCancel={() => setCreating(false)}
          onCreated={(l) => { setCreating(false); setSearchText(l.license_key); setSearch(l.license_key); setSelected(l.id); }} />
      )}
      <div className="filters">
        <input aria-label="Search" data-testid="license-search" placeholder="Search key, purchase code or buyer" value={searchText} onChange={(e) => setSearchText(e.target.value)} />
        <select aria-label="Status" data-testid="filter-status" value={status} onChange={(e) => setStatus(e.target.value as LicenseStatus | "")}>
          <option value="">All statuses</option><option value="active">Active</option><option value="suspended">Suspended</option><option value="revoked">Revoked</option>
        </select>
        <select aria-label="Product" value={product} onChange={(e) => setProduct(e.target.value)}>
          <option value="">All products</option>
          {products.data?.map((p) => <option key={p.id} value={p.id}>{p.name}</option>)}
        </select>
        <select aria-label="Marketplace" value={marketplace} onChange={(e) => setMarketplace(e.target.value)}>
          <option value="">All marketplaces</option>
          {markets.data?.map((m) => <option key={m} value={m}>{m}</option>)}
        </select>
        <select aria-label="Support" value={support} onChange={(e) => setSupport(e.target.value as SupportFilter | "")}>
          <option value="">Any support</option><option value="active">Support active</option><option value="expired">Support expired</option><option value="none">No support</option>
        </select>
        <label className="check inline-check">
          <input type="checkbox" data-testid="filter-flagged" checked={flagged} onChange={(e) => setFlagged(e.target.checked)} />
          {" "}Not recognised by Envato
        </label>
        <label className="check inline-check">
          <input type="checkbox" data-testid="filter-shared" checked={shared} onChange={(e) => setShared(e.target.checked)} />
          {" "}Possibly shared
        </label>
        <select aria-label="Sort" value={sort} onChange={(e) => setSort(e.target.value as LicenseSort)}>
          <option value="newest">Newest first</option><option value="oldest">Oldest first</option><option value="sold_desc">Sold: latest</option><option value="sold_asc">Sold: earliest</option>
        </select>
      </div>
      <RefundWatch productId={product ? Number(product) : null} productName={products.data?.find((p) => String(p.id) === product)?.name ?? null} />
      {picked.size > 0 && <BulkBar ids={[...picked]} onDone={(said) => { setPicked(new Set()); setBulkSaid(said); }} />}
      {bulkSaid && <div className="banner ok" role="status" data-testid="bulk-result">{bulkSaid}</div>}
      {exported && <div className="banner ok" data-testid="export-done">Exported to {exported}</div>}
      {exportError && <div className="banner error" role="alert">{exportError}</div>}
      {pages.isError && <div className="banner error" role="alert">{pages.error.message}</div>}
      <div className={panelOpen ? "licenses-layout with-panel" : "licenses-layout"}>
        <div className="vtable" role="table" aria-label="Licenses">
          <div className="vrow vhead" role="row">
            <span><input type="checkbox" aria-label="Select all shown" data-testid="select-all"
              checked={rows.length > 0 && rows.every((l) => picked.has(l.id))}
              onChange={(e) => setPicked(e.target.checked ? new Set(rows.map((l) => l.id)) : new Set())} /></span>
            <span>Key</span><span className="col-product">Product</span><span className="col-buyer">Buyer</span><span>Status</span><span>Activations</span><span className="col-sold">Sold</span>
          </div>
          {rows.length === 0 && pages.isSuccess && <div className="empty"><p className="muted">No licenses match. They appear here as sales sync from Envato.</p></div>}
          <div ref={scroller} className="vbody" data-testid="licenses-scroller">
            <div style={{ height: virtual.getTotalSize(), position: "relative" }}>
              {items.map((v) => {
                const l = rows[v.index];
                return (
                  <div key={l.id} role="row" data-testid="license-row" data-id={l.id} tabIndex={0}
                    aria-selected={selected === l.id}
                    className={selected === l.id ? "vrow selected" : "vrow"}
                    style={{ position: "absolute", top: 0, left: 0, right: 0, height: ROW_HEIGHT, transform: `translateY(${v.start}px)` }}
                    onClick={() => setSelected(l.id)}
                    onKeyDown={(e) => {
                      // Rows are reachable with Tab (and the arrow keys) and opened with Enter or Space.
                      if (e.key === "Enter" || e.key === " ") { e.preventDefault(); setSelected(l.id); }
                      if (e.key === "ArrowDown" || e.key === "ArrowUp") {
                        e.preventDefault();
                        const next = e.key === "ArrowDown" ? e.currentTarget.nextElementSibling : e.currentTarget.previousElementSibling;
                        if (next instanceof HTMLElement) next.focus();
                      }
                    }}>
                    <span onClick={(e) => e.stopPropagation()}>
                      <input type="checkbox" aria-label={`Select ${l.license_key}`} data-testid="pick-license" checked={picked.has(l.id)}
                        onChange={() => toggle(l.id)} />
                    </span>
                    <span className="mono">{l.license_key}</span>
                    <span className="col-product">{l.product_name}</span>
                    <span className="col-buyer">{l.buyer ?? (l.source === "envato" ? "Guest checkout" : "—")}</span>
                    <span><span className={`pill ${l.status}`}>{l.status}</span>{l.envato_flag && <span className="pill suspended" title="Envato no longer recognises this purchase">⚠</span>}{l.shared_suspected_at && <span className="pill suspended" data-testid="shared-pill" title="Possibly shared: used on more production sites than expected">shared?</span>}</span>
                    <span>{l.activations_used} / {l.activation_limit}</span>
                    <span className="col-sold">{l.sold_at ? new Date(l.sold_at).toLocaleDateString() : "—"}</span>
                  </div>
                );
              })}
            </div>
          </div>
          <div className="muted small-text" data-testid="licenses-count">{rows.length}{pages.hasNextPage ? "+" : ""} shown</div>
        </div>
        {panelOpen && selected !== null && <LicensePanel id={selected} onClose={() => setSelected(null)} />}
      </div>
    </section>
  );
}

function LicensePanel({ id, onClose }: { id: number; onClose: () => void }) {
  const queryClient = useQueryClient();
  const detail = useQuery({ queryKey: keys.license(id), queryFn: () => ipc.licenseDetail(id) });
  const [pending, setPending] = useState<LicenseAction | "regenerate" | null>(null);
  const [reason, setReason] = useState("");
  const [error, setError] = useState<string | null>(null);
  const refresh = () => {
    void queryClient.invalidateQueries({ queryKey: keys.license(id) });
    void queryClient.invalidateQueries({ queryKey: keys.licenses });
    void queryClient.invalidateQueries({ queryKey: keys.dashboard });
  };
  const act = useMutation({
    mutationFn: () => pending === "regenerate" ? ipc.licenseRegenerateKey(id, reason) : ipc.licenseChangeStatus(id, pending!, reason),
    onSuccess: () => { setPending(null); setReason(""); setError(null); refresh(); },
    onError: (e: IpcError) => setError(e.message),
  });
  const free = useMutation({
    mutationFn: (activationId: number) => ipc.licenseFreeSlot(id, activationId),
    onSuccess: refresh,
    onError: (e: IpcError) => setError(e.message),
  });
  if (!detail.data) return <aside className="panel card">{detail.isError ? detail.error.message : "Loading…"}</aside>;
  const { license: l, support, activations, audit, key_history } = detail.data;
  const production = activations.filter((a) => a.environment === "production");
  const others = activations.filter((a) => a.environment !== "production");
  const actions: { action: LicenseAction | "regenerate"; label: string; show: boolean }[] = [
    { action: "suspend", label: "Suspend", show: l.status === "active" },
    { action: "revoke", label: "Revoke", show: l.status !== "revoked" },
    { action: "reactivate", label: "Reactivate", show: l.status !== "active" },
    { action: "regenerate", label: "Regenerate key", show: true },
  ];
  return (
    <aside className="panel card" data-testid="license-panel" onKeyDown={(e) => { if (e.key === "Escape") onClose(); }}>
      <div className="panel-head">
        <h2>License {l.id}</h2>
        <button type="button" className="link" onClick={onClose}>Close</button>
      </div>
      {l.envato_flag === "not_recognised" && (
        <div className="banner warn" data-testid="not-recognised">
          Envato no longer recognises this purchase (refund or reversal?). Decide whether to suspend or revoke it.{" "}
          {l.status === "active" && (
            <button type="button" className="secondary" data-testid="flag-suspend"
              onClick={() => { setPending("suspend"); setReason("Envato no longer recognises the purchase (refund?)"); setError(null); }}>
              Suspend…
            </button>
          )}
        </div>
      )}
      {l.shared_suspected_at && (
        <div className="banner warn" data-testid="shared-suspected">
          Possibly shared: this license was used on more production sites in 30 days than expected (since{" "}
          {new Date(l.shared_suspected_at).toLocaleDateString()}). KeyManager never suspends for it.{" "}
          {l.status === "active" && (
            <button type="button" className="secondary" data-testid="shared-suspend"
              onClick={() => { setPending("suspend"); setReason("Purchase code shared: used on too many sites"); setError(null); }}>
              Suspend…
            </button>
          )}
        </div>
      )}
      <LicenseFacts license={l} support={support} />
      <LicenseContact key={`${l.id}-${l.buyer_email ?? ""}-${l.note ?? ""}`} license={l} onSaved={refresh} />
      <div className="form-actions wrap">
        {actions.filter((a) => a.show).map((a) => (
          <button key={a.action} type="button" className={a.action === "revoke" ? "danger" : "secondary"} data-testid={`action-${a.action}`}
            onClick={() => { setPending(a.action); setError(null); }}>{a.label}</button>
        ))}
      </div>
      {pending && (
        <form className="reason" onSubmit={(e) => { e.preventDefault(); act.mutate(); }}>
          <label htmlFor="reason" className="field-label">Reason (kept in the audit trail)</label>
          <input id="reason" data-testid="action-reason" value={reason} onChange={(e) => setReason(e.target.value)} autoFocus
            placeholder={pending === "revoke" ? "e.g. Refunded on Envato" : "Why?"} />
          <div className="form-actions">
            <button type="submit" className="primary" data-testid="action-confirm" disabled={act.isPending}>Confirm</button>
            <button type="button" className="secondary" onClick={() => setPending(null)}>Cancel</button>
          </div>
        </form>
      )}
      {error && <div className="banner error" role="alert" data-testid="panel-error">{error}</div>}
      {activations.length === 0 && <><h3>Activations (0 of {l.activation_limit})</h3><p className="muted">Not activated anywhere.</p></>}
      {activations.length > 0 && (
        <>
          <h3 data-testid="production-heading">Production ({production.length} of {l.activation_limit})</h3>
          <ActivationList items={production} onFree={(id) => free.mutate(id)} />
          {others.length > 0 && (
            <>
              <h3 data-testid="dev-heading">Staging and development ({others.length}, not counted)</h3>
              <ActivationList items={others} onFree={(id) => free.mutate(id)} />
            </>
          )}
        </>
      )}
      {key_history.length > 0 && (
        <>
          <h3>Former keys</h3>
          <ul className="plain">{key_history.map((k) => <li key={k.license_key}><span className="mono">{k.license_key}</span> <span className="muted">— {k.reason}</span></li>)}</ul>
        </>
      )}
      <h3>Audit trail</h3>
      <ol className="audit" data-testid="audit-trail">
        {audit.map((a) => (
          <li key={a.id}><span className="muted">{new Date(a.at).toLocaleString()}</span> <strong>{a.action}</strong> {a.message}</li>
        ))}
      </ol>
    </aside>
  );
}

/** The buyer's e-mail and the seller's note, edited in place, and "E-mail key to buyer". */
function LicenseContact({ license: l, onSaved }: { license: License; onSaved: () => void }) {
  const [email, setEmail] = useState(l.buyer_email ?? "");
  const [note, setNote] = useState(l.note ?? "");
  const [error, setError] = useState<IpcError | null>(null);
  const [sent, setSent] = useState<string | null>(null);
  const dirty = email !== (l.buyer_email ?? "") || note !== (l.note ?? "");
  const save = useMutation({
    mutationFn: () => ipc.licenseUpdateDetails(l.id, email, note),
    onSuccess: () => { setError(null); onSaved(); },
    onError: (e: IpcError) => setError(e),
  });
  const send = useMutation({
    mutationFn: () => ipc.licenseSendKey(l.id, null),
    onSuccess: (d) => {
      setError(null);
      setSent(d.status === "delivered" ? `Sent to ${d.destination}.` : `Not sent yet (kept and retried): ${d.last_error ?? "waiting"}`);
      onSaved();
    },
    onError: (e: IpcError) => { setSent(null); setError(e); },
  });
  return (
    <form className="contact" noValidate onSubmit={(e) => { e.preventDefault(); save.mutate(); }}>
      <div className={error?.field === "buyer_email" ? "field has-error" : "field"}>
        <label htmlFor="buyer-email" className="field-label">Buyer e-mail</label>
        <input id="buyer-email" data-testid="buyer-email" type="email" value={email} placeholder="Envato does not share it"
          onChange={(e) => { setEmail(e.target.value); setError(null); }} />
        {error?.field === "buyer_email" && <p className="field-error" role="alert" data-testid="buyer-email-error">{error.message}</p>}
      </div>
      <div className="field">
        <label htmlFor="license-note" className="field-label">Note</label>
        <textarea id="license-note" data-testid="license-note" rows={2} value={note} onChange={(e) => setNote(e.target.value)} />
      </div>
      <div className="form-actions wrap">
        <button type="submit" className="secondary" data-testid="contact-save" disabled={!dirty || save.isPending}>Save</button>
        <button type="button" className="secondary" data-testid="send-key" disabled={!l.buyer_email || dirty || send.isPending}
          title={l.buyer_email ? undefined : "Add the buyer's e-mail first"} onClick={() => send.mutate()}>
          {send.isPending ? "Sending…" : "E-mail key to buyer"}
        </button>
      </div>
      {sent && <p role="status" data-testid="send-key-result">{sent}</p>}
      {error && error.field !== "buyer_email" && <div className="banner error" role="alert" data-testid="contact-error">{error.message}</div>}
    </form>
  );
}

/** A license made by hand, for a sale outside Envato: product, buyer, e-mail and a note. */
function NewLicenseForm({ products, onCreated, onCancel }: { products: Product[]; onCreated: (l: License) => void; onCancel: () => void }) {
  const queryClient = useQueryClient();
  const active = products.filter((p) => p.status === "active");
  const [product, setProduct] = useState(active[0] ? String(active[0].id) : "");
  const [buyer, setBuyer] = useState("");
  const [email, setEmail] = useState("");
  const [note, setNote] = useState("");
  const [error, setError] = useState<IpcError | null>(null);
  const create = useMutation({
    mutationFn: () => ipc.licenseIssue(Number(product), buyer.trim() || null, email.trim() || null, note.trim() || null),
    onSuccess: (l) => {
      void queryClient.invalidateQueries({ queryKey: keys.licenses });
      void queryClient.invalidateQueries({ queryKey: keys.dashboard });
      onCreated(l);
    },
    onError: (e: IpcError) => setError(e),
  });
  if (active.length === 0) {
    return <div className="banner warn" role="status" data-testid="new-license-no-products">Create a product first (Products page): a license belongs to one.</div>;
  }
  const fieldError = (f: string) => error?.field === f ? <p className="field-error" role="alert" data-testid={`new-license-${f}-error`}>{error.message}</p> : null;
  return (
    <form className="card new-license" data-testid="new-license-form" noValidate onSubmit={(e) => { e.preventDefault(); create.mutate(); }}>
      <h3>New license</h3>
      <p className="muted">For a sale outside Envato. It takes the product's activation limit and license type.</p>
      <div className="field">
        <label htmlFor="nl-product" className="field-label">Product</label>
        <select id="nl-product" data-testid="new-license-product" value={product} onChange={(e) => setProduct(e.target.value)}>
          {active.map((p) => <option key={p.id} value={p.id}>{p.name}</option>)}
        </select>
      </div>
      <div className={error?.field === "buyer" ? "field has-error" : "field"}>
        <label htmlFor="nl-buyer" className="field-label">Buyer</label>
        <input id="nl-buyer" data-testid="new-license-buyer" type="text" value={buyer} onChange={(e) => setBuyer(e.target.value)} autoFocus />
        {fieldError("buyer")}
      </div>
      <div className={error?.field === "buyer_email" ? "field has-error" : "field"}>
        <label htmlFor="nl-email" className="field-label">Buyer e-mail</label>
        <input id="nl-email" data-testid="new-license-email" type="email" value={email} onChange={(e) => { setEmail(e.target.value); setError(null); }} />
        {fieldError("buyer_email")}
      </div>
      <div className="field">
        <label htmlFor="nl-note" className="field-label">Note</label>
        <textarea id="nl-note" data-testid="new-license-note" rows={2} value={note} onChange={(e) => setNote(e.target.value)} />
      </div>
      {error && !["buyer", "buyer_email"].includes(error.field ?? "") && <div className="banner error" role="alert">{error.message}</div>}
      <div className="form-actions">
        <button type="submit" className="primary" data-testid="new-license-create" disabled={create.isPending}>Create license</button>
        <button type="button" className="secondary" onClick={onCancel}>Cancel</button>
      </div>
    </form>
  );
}

/** Suspend, revoke or reactivate the selected licenses with one reason. */
function BulkBar({ ids, onDone }: { ids: number[]; onDone: (said: string | null) => void }) {
  const queryClient = useQueryClient();
  const [action, setAction] = useState<LicenseAction>("suspend");
  const [reason, setReason] = useState("");
  const apply = useMutation({
    mutationFn: () => ipc.licensesChangeStatus(ids, action, reason),
    onSuccess: (r) => {
      const skipped = r.skipped.length ? `; ${r.skipped.length} left as they were (${r.skipped[0].message})` : "";
      void queryClient.invalidateQueries({ queryKey: keys.licenses });
      void queryClient.invalidateQueries({ queryKey: ["license"] });
      void queryClient.invalidateQueries({ queryKey: keys.dashboard });
      onDone(`${r.changed.length} license${r.changed.length === 1 ? "" : "s"} changed${skipped}.`);
    },
  });
  return (
    <>
      <form className="bulk-bar card" data-testid="bulk-bar" onSubmit={(e) => { e.preventDefault(); apply.mutate(); }}>
        <strong data-testid="bulk-count">{ids.length} selected</strong>
        <select aria-label="Action" data-testid="bulk-action" value={action} onChange={(e) => setAction(e.target.value as LicenseAction)}>
          <option value="suspend">Suspend</option><option value="revoke">Revoke</option><option value="reactivate">Reactivate</option>
        </select>
        <input aria-label="Reason" data-testid="bulk-reason" placeholder="Reason (kept in each audit trail)" value={reason} onChange={(e) => setReason(e.target.value)} />
        <button type="submit" className={action === "revoke" ? "danger" : "primary"} data-testid="bulk-apply" disabled={apply.isPending}>Apply</button>
        <button type="button" className="secondary" onClick={() => onDone(null)}>Clear selection</button>
      </form>
      {apply.isError && <div className="banner error" role="alert" data-testid="bulk-error">{(apply.error as IpcError).message}</div>}
    </>
  );
}

/** The refund watch: re-check purchase codes with Envato (a product's, or all), with progress. */
function RefundWatch({ productId, productName }: { productId: number | null; productName: string | null }) {
  const queryClient = useQueryClient();
  const status = useQuery({ queryKey: keys.recheck, queryFn: ipc.recheckStatus });
  // Progress is pushed by the core's refund-watch job, not polled.
  useTauriEvent(ipc.onRecheckProgress, (p) => queryClient.setQueryData(keys.recheck, p));
  const start = useMutation({
    mutationFn: () => ipc.recheckStart(productId),
    onSuccess: (p) => queryClient.setQueryData(keys.recheck, p),
  });
  const cancel = useMutation({ mutationFn: ipc.recheckCancel });
  const p = status.data;
  // When a run ends, the list shows what it flagged.
  const wasRunning = useRef(false);
  useEffect(() => {
    if (p?.running) wasRunning.current = true;
    else if (wasRunning.current && p) {
      wasRunning.current = false;
      void queryClient.invalidateQueries({ queryKey: keys.licenses });
    }
  }, [p, queryClient]);
  return (
    <div className="refund-watch" data-testid="refund-watch">
      {!p?.running && (
        <button type="button" className="secondary" data-testid="recheck-start" disabled={start.isPending} onClick={() => start.mutate()}>
          Re-check purchase codes{productName ? ` of ${productName}` : ""}
        </button>
      )}
      {p?.running && (
        <div className="recheck-progress" role="status" data-testid="recheck-progress">
          <progress max={Math.max(1, Number(p.total))} value={Number(p.checked)} />
          <span>{p.checked} of {p.total} checked, {p.not_recognised} not recognised</span>
          <button type="button" className="link" data-testid="recheck-cancel" onClick={() => cancel.mutate()}>Stop</button>
        </div>
      )}
      {p && !p.running && Number(p.checked) > 0 && (
        <span className="muted" data-testid="recheck-result">
          {p.cancelled ? "Stopped: " : "Done: "}{p.checked} checked, {p.not_recognised} no longer recognised by Envato
          {Number(p.failed) > 0 ? `, ${p.failed} could not be checked (${p.last_error ?? ""})` : ""}. Nothing was suspended: use the filter to review them.
        </span>
      )}
      {start.isError && <span className="field-error" role="alert">{(start.error as IpcError).message}</span>}
    </div>
  );
}

/** Activations of one group: the site (or the fingerprint a product chose), why it does not
 * count, when it was last seen, and a button to free it. */
function ActivationList({ items, onFree }: { items: Activation[]; onFree: (id: number) => void }) {
  return (
    <ul className="plain">
      {items.map((a) => (
        <li key={a.id} data-testid="activation">
          <span className="mono" data-testid="activation-fingerprint">{a.site ?? a.instance_id}</span>{" "}
          {a.label && <span className="muted" data-testid="activation-label">({a.label})</span>}{" "}
          {a.environment !== "production" && <span className="pill" data-testid="activation-environment">{a.environment}, not counted</span>}{" "}
          <span className="muted" data-testid="activation-since">since {new Date(a.activated_at).toLocaleString()}, last seen {new Date(a.last_seen_at).toLocaleDateString()}</span>{" "}
          <button type="button" className="link" data-testid="free-slot" onClick={() => onFree(a.id)}>Free slot</button>
        </li>
      ))}
    </ul>
  );
}
