import { Choices } from "../../components/Choices";
import { LICENSE_STATUS_CHOICES, SORT_CHOICES, SUPPORT_CHOICES } from "../../options";
import type { LicenseSort } from "../../bindings/LicenseSort";
import type { LicenseStatus } from "../../bindings/LicenseStatus";
import type { Product } from "../../bindings/Product";
import type { SupportFilter } from "../../bindings/SupportFilter";
import type { FilterState, SetFilter } from "./useLicenseFilter";

/** The filter bar: search, status, product, marketplace, support, the two flags, and the sort. */
export function LicenseFilters({ state, set, products, markets }: {
  state: FilterState; set: SetFilter; products: Product[]; markets: string[];
}) {
  return (
    <div className="filters">
      <input aria-label="Search" data-testid="license-search" placeholder="Search key, purchase code or buyer" value={state.searchText} onChange={(e) => set("searchText", e.target.value)} />
      <select aria-label="Status" data-testid="filter-status" value={state.status} onChange={(e) => set("status", e.target.value as LicenseStatus | "")}>
        <option value="">All statuses</option><Choices of={LICENSE_STATUS_CHOICES} />
      </select>
      <select aria-label="Product" value={state.product} onChange={(e) => set("product", e.target.value)}>
        <option value="">All products</option>
        {products.map((p) => <option key={p.id} value={p.id}>{p.name}</option>)}
      </select>
      <select aria-label="Marketplace" value={state.marketplace} onChange={(e) => set("marketplace", e.target.value)}>
        <option value="">All marketplaces</option>
        {markets.map((m) => <option key={m} value={m}>{m}</option>)}
      </select>
      <select aria-label="Support" value={state.support} onChange={(e) => set("support", e.target.value as SupportFilter | "")}>
        <option value="">Any support</option><Choices of={SUPPORT_CHOICES} />
      </select>
      <label className="check inline-check">
        <input type="checkbox" data-testid="filter-flagged" checked={state.flagged} onChange={(e) => set("flagged", e.target.checked)} />
        {" "}Not recognised by Envato
      </label>
      <label className="check inline-check">
        <input type="checkbox" data-testid="filter-shared" checked={state.shared} onChange={(e) => set("shared", e.target.checked)} />
        {" "}Possibly shared
      </label>
      <select aria-label="Sort" value={state.sort} onChange={(e) => set("sort", e.target.value as LicenseSort)}>
        <Choices of={SORT_CHOICES} />
      </select>
    </div>
  );
}
