use crate::args::WebhooksCmd;
use crate::context::Ctx;
use crate::output::{clip, CmdResult, Out};
use keymanager::store::{Delivery, WebhookEndpoint};
use keymanager::{time, webhooks};
use std::io::Write;
use std::time::Duration;

pub fn run(ctx: &Ctx, cmd: &WebhooksCmd, out: &mut Out) -> CmdResult {
    let now = time::now();
    match cmd {
        WebhooksCmd::Add { url, events } => {
            let new = webhooks::add(&mut ctx.store()?, &ctx.secrets()?, url, events.as_deref().unwrap_or(""), now)?;
            out.emit(&new, |w| {
                writeln!(w, "Added webhook endpoint {} for {}.", new.endpoint.id, events_text(&new.endpoint))?;
                writeln!(w, "Secret (shown only now; keep it in your receiver): {}", new.secret)
            })
        }
        WebhooksCmd::RotateSecret { id } => {
            let new = webhooks::rotate(&mut ctx.store()?, &ctx.secrets()?, *id, now)?;
            out.emit(&new, |w| writeln!(w, "New secret for endpoint {id} (shown only now): {}", new.secret))
        }
        WebhooksCmd::List => {
            let list = ctx.store()?.webhook_endpoints()?;
            out.emit(&list, |w| {
                if list.is_empty() {
                    return writeln!(w, "No webhook endpoints. Add one with `keymanager webhooks add URL`.");
                }
                for e in &list {
                    let state = match (&e.disabled_reason, &e.failing_since) {
                        (Some(why), _) if !e.enabled => format!("disabled: {why}"),
                        (_, Some(since)) => format!("failing since {since}: {}", e.last_error.as_deref().unwrap_or("")),
                        _ => "ok".to_string(),
                    };
                    writeln!(
                        w,
                        "{:>4}  {}  [{}]  {} waiting, {} failed  {state}",
                        e.id,
                        e.url,
                        events_text(e),
                        e.pending,
                        e.failed
                    )?;
                }
                Ok(())
            })
        }
        WebhooksCmd::Remove { id } => {
            webhooks::remove(&mut ctx.store()?, &ctx.secrets()?, *id, now)?;
            out.emit(&serde_json::json!({"removed": id}), |w| writeln!(w, "Removed webhook endpoint {id}."))
        }
        WebhooksCmd::Test { id } => {
            let message_id = ctx.store()?.queue_webhook_test(*id, now)?;
            ctx.deliver_outbox(Duration::from_secs(20))?;
            show_message(ctx, &message_id, keymanager::ErrorCode::WebhookDeliveryFailed, out)
        }
        WebhooksCmd::Replay { message_id } => {
            let d = ctx.store()?.replay_message(message_id, now)?;
            ctx.deliver_outbox(Duration::from_secs(20))?;
            show_message(ctx, &d.message_id, keymanager::ErrorCode::WebhookDeliveryFailed, out)
        }
        WebhooksCmd::Deliveries { endpoint, limit } => {
            let store = ctx.store()?;
            if let Some(id) = endpoint {
                store.webhook_endpoint(*id)?;
            }
            let list = store.deliveries(*endpoint, Some(keymanager::store::Channel::Webhook), *limit)?;
            out.emit(&list, |w| {
                if list.is_empty() {
                    return writeln!(w, "No deliveries yet.");
                }
                for d in &list {
                    print_delivery(w, d)?;
                }
                Ok(())
            })
        }
    }
}

fn events_text(e: &WebhookEndpoint) -> String {
    if e.all_events {
        "all events".to_string()
    } else {
        e.events.iter().map(|t| t.as_str()).collect::<Vec<_>>().join(", ")
    }
}

pub fn print_delivery(w: &mut dyn Write, d: &Delivery) -> std::io::Result<()> {
    let http = d.last_status.map(|s| s.to_string()).unwrap_or_else(|| "-".into());
    let next = d.next_attempt_at.as_deref().unwrap_or("-");
    writeln!(
        w,
        "{}  {:<24} {:<9} attempts {}  HTTP {http:<4} next {next}  {}  {}",
        d.message_id,
        d.event_type,
        d.status.as_str(),
        d.attempts,
        clip(&d.destination, 50),
        d.last_error.as_deref().map(|e| clip(e, 80)).unwrap_or_default()
    )
}

/// One message after a delivery attempt: its row, and exit 1 (with `code`) when it did not get
/// through yet; it stays in the outbox and is retried.
pub fn show_message(ctx: &Ctx, message_id: &str, code: keymanager::ErrorCode, out: &mut Out) -> CmdResult {
    let d = ctx.store()?.delivery(message_id)?;
    out.emit(&d, |w| print_delivery(w, &d))?;
    if d.status == keymanager::store::DeliveryStatus::Delivered {
        Ok(())
    } else {
        Err(keymanager::Error::new(
            code,
            format!(
                "Not delivered yet (it stays in the outbox and is retried): {}",
                d.last_error.as_deref().unwrap_or("it waits for its next attempt.")
            ),
        )
        .into())
    }
}
