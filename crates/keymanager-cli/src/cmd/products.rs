use crate::args::ProductsCmd;
use crate::context::Ctx;
use crate::output::{clip, CmdResult, Out};
use keymanager::model::{NewProduct, Product, ProductStatus};
use keymanager::{time, Error};
use std::io::{self, Write};

pub fn run(ctx: &Ctx, cmd: &ProductsCmd, out: &mut Out) -> CmdResult {
    match cmd {
        ProductsCmd::Add { .. } => {
            let new = new_product(cmd)?;
            let p = ctx.store()?.create_product(&new, time::now())?;
            out.emit(&p, |w| writeln!(w, "Created product {} “{}”.", p.id, p.name))
        }
        ProductsCmd::List { needs_review } => {
            let mut products = ctx.store()?.products()?;
            if *needs_review {
                products.retain(|p| p.needs_review);
            }
            out.emit(&products, |w| print_products(w, &products))
        }
        ProductsCmd::Merge { from, into } => {
            let (p, moved) = ctx.store()?.merge_products(*from, *into, time::now())?;
            out.emit(&p, |w| writeln!(w, "Merged product {from} into {} “{}”: {moved} licenses moved.", p.id, p.name))
        }
        ProductsCmd::Edit { id, update_slug, updates_require_activation, .. } => {
            let kind = update_kind(cmd)?;
            let u = ctx.store()?.set_product_updates(
                *id,
                update_slug.as_deref(),
                kind,
                *updates_require_activation,
                time::now(),
            )?;
            out.emit(&u, |w| {
                writeln!(
                    w,
                    "Product {} “{}”: update slug {}, kind {}, updates {}.",
                    u.product_id,
                    u.product_name,
                    u.slug.as_deref().unwrap_or("(none)"),
                    u.kind.map_or("(unset)", |k| k.as_str()),
                    if u.require_activation { "only for activated sites" } else { "for every licensed site" }
                )
            })
        }
        ProductsCmd::MarkReviewed { id } => {
            let p = ctx.store()?.mark_product_reviewed(*id, time::now())?;
            out.emit(&p, |w| writeln!(w, "Product {} “{}” is reviewed.", p.id, p.name))
        }
    }
}

fn print_products(out: &mut dyn Write, products: &[Product]) -> io::Result<()> {
    if products.is_empty() {
        return writeln!(out, "No products yet. Add one with `keymanager products add --name NAME`.");
    }
    writeln!(
        out,
        "{:>6}  {:<32}  {:<12}  {:>5}  {:<9}  {:<8}  ENVATO ITEMS",
        "ID", "NAME", "SKU", "LIMIT", "TYPE", "STATUS"
    )?;
    for p in products {
        let ids: Vec<String> = p.envato_item_ids.iter().map(i64::to_string).collect();
        writeln!(
            out,
            "{:>6}  {:<32}  {:<12}  {:>5}  {:<9}  {:<8}  {}",
            p.id,
            clip(&p.name, 32),
            clip(p.sku.as_deref().unwrap_or("-"), 12),
            p.activation_limit,
            p.license_type.as_str(),
            if p.needs_review { "review" } else { p.status.as_str() },
            if ids.is_empty() { "-".to_string() } else { ids.join(",") }
        )?;
    }
    Ok(())
}

/// The product `products add` describes (here and with --remote).
pub fn new_product(cmd: &ProductsCmd) -> Result<NewProduct, Error> {
    let ProductsCmd::Add { name, description, sku, item_ids, activation_limit, license_type, inactive } = cmd else {
        return Err(Error::internal("not products add"));
    };
    let activation_limit = activation_limit
        .map(|n| {
            u32::try_from(n).map_err(|_| {
                Error::invalid_input(format!("The activation limit must be a whole number from 1 to 1000; {n} is not."))
                    .with_field("activation_limit")
            })
        })
        .transpose()?;
    Ok(NewProduct {
        name: name.clone(),
        description: description.clone(),
        sku: sku.clone(),
        envato_item_ids: Some(item_ids.clone()),
        activation_limit,
        license_type: *license_type,
        status: Some(if *inactive { ProductStatus::Inactive } else { ProductStatus::Active }),
    })
}

/// `products edit --update-kind`, checked (here and with --remote).
pub fn update_kind(cmd: &ProductsCmd) -> Result<Option<keymanager::updates::UpdateKind>, Error> {
    let ProductsCmd::Edit { update_kind, .. } = cmd else { return Ok(None) };
    update_kind
        .as_deref()
        .map(|k| {
            keymanager::updates::UpdateKind::parse(k).ok_or_else(|| {
                Error::invalid_input("--update-kind is wp-plugin, wp-theme or generic.").with_field("update_kind")
            })
        })
        .transpose()
}
