import { useEffect, useMemo, useState } from "react";
import type { LicenseFilter } from "../../bindings/LicenseFilter";
import type { LicenseSort } from "../../bindings/LicenseSort";
import type { LicenseStatus } from "../../bindings/LicenseStatus";
import type { SupportFilter } from "../../bindings/SupportFilter";

/** What the filter bar holds. `searchText` is what is typed; `search` follows it 250 ms later. */
export type FilterState = {
  status: LicenseStatus | "";
  product: string;
  marketplace: string;
  support: SupportFilter | "";
  sort: LicenseSort;
  searchText: string;
  search: string;
  flagged: boolean;
  shared: boolean;
};

export type SetFilter = <K extends keyof FilterState>(key: K, value: FilterState[K]) => void;

/** The licenses page's filter: its state, one setter, and the `LicenseFilter` Rust is asked. */
export function useLicenseFilter(initialSearch: string) {
  const [state, setState] = useState<FilterState>({
    status: "", product: "", marketplace: "", support: "", sort: "newest",
    searchText: initialSearch, search: initialSearch, flagged: false, shared: false,
  });
  const set: SetFilter = (key, value) => setState((s) => ({ ...s, [key]: value }));
  // Search as you type, without a query per keystroke.
  useEffect(() => {
    const t = setTimeout(() => setState((s) => ({ ...s, search: s.searchText.trim() })), 250);
    return () => clearTimeout(t);
  }, [state.searchText]);
  const { status, product, marketplace, support, search, flagged, shared, sort } = state;
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
  /** Shows one key at once (a license just made), without waiting for the debounce. */
  const showKey = (key: string) => setState((s) => ({ ...s, searchText: key, search: key }));
  return { state, set, filter, showKey };
}
