export function SyncLog() {
  return (
    <section>
      <header className="page-head"><h1>Sync log</h1></header>
      <div className="empty">
        <h3>No syncs yet</h3>
        <p className="muted">Each background or manual sync of your Envato sales will be listed here with its counts, warnings and errors.</p>
      </div>
    </section>
  );
}
