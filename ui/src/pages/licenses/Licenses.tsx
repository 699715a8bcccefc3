import { useEffect, useMemo, useRef, useState } from "react";
import { useInfiniteQuery, useMutation, useQuery } from "@tanstack/react-query";
import { useVirtualizer } from "@tanstack/react-virtual";
import { ipc } from "../../ipc";
import { keys } from "../../queryKeys";
import { latestError } from "../../hooks/latestError";
import { BulkBar } from "./BulkBar";
import { LicenseFilters } from "./LicenseFilters";
import { LicensePanel } from "./LicensePanel";
import { NewLicenseForm } from "./NewLicenseForm";
import { RefundWatch } from "./RefundWatch";
import { useLicenseFilter } from "./useLicenseFilter";

const ROW_HEIGHT = 44;

/** Licenses: fast with a million rows (keyset pages from Rust, only visible rows rendered). */
/** `open`: a license to show at once (from a lookup), found by its key and opened in the panel. */
export function Licenses({ open = null }: { open?: { id: number; key: string } | null }) {
  const { state, set, filter, showKey } = useLicenseFilter(open?.key ?? "");
  const product = state.product;
  const [selected, setSelected] = useState<number | null>(open?.id ?? null);
  const [creating, setCreating] = useState(false);
  const [picked, setPicked] = useState<Set<number>>(new Set());
  const [bulkSaid, setBulkSaid] = useState<string | null>(null);
  const toggle = (id: number) => setPicked((p) => { const n = new Set(p); if (n.has(id)) n.delete(id); else n.add(id); return n; });

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
  });
  const exported = exportCsv.isSuccess ? exportCsv.data : null;
  const exportError = latestError(exportCsv)?.message ?? null;

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
          onCreated={(l) => { setCreating(false); showKey(l.license_key); setSelected(l.id); }} />
      )}
      <LicenseFilters state={state} set={set} products={products.data ?? []} markets={markets.data ?? []} />
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
