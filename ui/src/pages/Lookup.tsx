export function Lookup() {
  return (
    <section>
      <header className="page-head"><h1>Lookup</h1></header>
      <div className="empty">
        <h3>Purchase-code lookup</h3>
        <p className="muted">Paste a buyer's purchase code to see whether it is real, which item and buyer, and the license it maps to. Coming once Envato is connected.</p>
      </div>
    </section>
  );
}
