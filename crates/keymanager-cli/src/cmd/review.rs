use crate::args::ReviewCmd;
use crate::context::Ctx;
use crate::output::{clip, CmdResult, Out};
use keymanager::time;

pub fn run(ctx: &Ctx, cmd: &ReviewCmd, out: &mut Out) -> CmdResult {
    let mut store = ctx.store()?;
    match cmd {
        ReviewCmd::List => {
            let queue = store.review_queue()?;
            out.emit(&queue, |w| {
                if queue.is_empty() {
                    return writeln!(w, "No sales are waiting for review.");
                }
                writeln!(w, "{:>10}  {:<40}  {:<18}  {:>7}  NEWEST SALE", "ITEM ID", "ITEM", "MARKETPLACE", "WAITING")?;
                for q in &queue {
                    writeln!(
                        w,
                        "{:>10}  {:<40}  {:<18}  {:>7}  {}",
                        q.item_id,
                        clip(&q.item_name, 40),
                        q.marketplace.as_deref().unwrap_or("-"),
                        q.waiting_sales,
                        q.newest_sold_at
                    )?;
                }
                Ok(())
            })
        }
        ReviewCmd::CreateProduct { item_id } => {
            let (p, n) = store.review_create_product(*item_id, time::now())?;
            out.emit(&p, |w| writeln!(w, "Created product {} “{}”; {n} waiting sales became licenses.", p.id, p.name))
        }
        ReviewCmd::Map { item_id, product_id } => {
            let (p, n) = store.review_map(*item_id, *product_id, time::now())?;
            out.emit(&p, |w| {
                writeln!(w, "Linked Envato item {item_id} to “{}”; {n} waiting sales became licenses.", p.name)
            })
        }
    }
}
