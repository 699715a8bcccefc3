//! The `products` and `product_envato_items` tables: products, the Envato items each sells,
//! products created from an item (auto-create and the review queue), and the index matching uses.

use super::audit::{insert_audit, AuditEntry, AuditLevel};
use super::pending::{no_review_item, promote_pending};
use super::Store;
use crate::error::{Error, ErrorCode, Result};
use crate::model::{NewProduct, Product, DESCRIPTION_MAX, NAME_MAX};
use crate::plan::ProductIndex;
use crate::text::truncate_chars;
use crate::time::{to_db, Timestamp};
use rusqlite::{params, OptionalExtension, Transaction};

const SELECT: &str = "SELECT p.id, p.name, p.description, p.sku, p.activation_limit, p.license_type, p.status,
        p.created_at, p.updated_at,
        (SELECT group_concat(item_id) FROM (SELECT item_id FROM product_envato_items e WHERE e.product_id = p.id ORDER BY item_id)),
        (SELECT count(*) FROM licenses l WHERE l.product_id = p.id),
        p.auto_created, p.reviewed_at IS NULL
     FROM products p";

fn row_to_product(r: &rusqlite::Row<'_>) -> rusqlite::Result<Product> {
    let ids: Option<String> = r.get(9)?;
    Ok(Product {
        id: r.get(0)?,
        name: r.get(1)?,
        description: r.get(2)?,
        sku: r.get(3)?,
        activation_limit: r.get(4)?,
        license_type: r.get(5)?,
        status: r.get(6)?,
        created_at: r.get(7)?,
        updated_at: r.get(8)?,
        envato_item_ids: ids.map(|s| s.split(',').filter_map(|x| x.parse().ok()).collect()).unwrap_or_default(),
        license_count: r.get(10)?,
        auto_created: r.get(11)?,
        needs_review: r.get::<_, bool>(11)? && r.get::<_, bool>(12)?,
    })
}

pub(crate) fn insert_product_for_item(
    tx: &Transaction<'_>,
    item_id: i64,
    name: &str,
    description: &str,
    limit: u32,
    ltype: &str,
    now: Timestamp,
) -> Result<i64> {
    if let Some(id) = tx
        .prepare_cached("SELECT product_id FROM product_envato_items WHERE item_id = ?1")?
        .query_row([item_id], |r| r.get(0))
        .optional()?
    {
        return Ok(id);
    }
    let at = to_db(now);
    tx.prepare_cached(
        "INSERT INTO products (name, description, sku, activation_limit, license_type, status, created_at, updated_at, auto_created)
         VALUES (?1, ?2, NULL, ?3, ?4, 'active', ?5, ?5, 1)",
    )?
    .execute(params![
        truncate_chars(name, NAME_MAX),
        truncate_chars(description, DESCRIPTION_MAX),
        limit,
        ltype,
        at
    ])?;
    let id = tx.last_insert_rowid();
    tx.prepare_cached("INSERT INTO product_envato_items (item_id, product_id) VALUES (?1, ?2)")?
        .execute(params![item_id, id])?;
    insert_audit(
        tx,
        &AuditEntry::new(
            now,
            AuditLevel::Info,
            "product.auto_created",
            format!("Product “{name}” created from Envato item {item_id}."),
        )
        .product(id),
    )?;
    Ok(id)
}

/// The products as matching needs them, as `conn` (or a transaction) sees them.
pub(crate) fn product_index_in(conn: &rusqlite::Connection) -> Result<ProductIndex> {
    let mut index = ProductIndex::default();
    let mut stmt = conn.prepare_cached("SELECT item_id, product_id FROM product_envato_items")?;
    for row in stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))? {
        let (item, product) = row?;
        index.by_item.insert(item, product);
    }
    // Oldest product wins a name or SKU shared by several.
    let mut stmt =
        conn.prepare_cached("SELECT id, name, sku FROM products WHERE status = 'active' ORDER BY id DESC")?;
    for row in
        stmt.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, Option<String>>(2)?)))?
    {
        let (id, name, sku) = row?;
        index.by_name.insert(name.trim().to_lowercase(), id);
        if let Some(sku) = sku {
            index.by_sku.insert(sku.trim().to_lowercase(), id);
        }
    }
    Ok(index)
}

/// Whether the product is inactive (it issues no new licenses and takes no activations).
pub(crate) fn product_inactive(conn: &rusqlite::Connection, id: i64) -> Result<bool> {
    Ok(conn
        .prepare_cached("SELECT status = 'inactive' FROM products WHERE id = ?1")?
        .query_row([id], |r| r.get(0))
        .optional()?
        .unwrap_or(false))
}

impl Store {
    /// Merges `from` into `into` (the same product sold on two marketplaces): `from`'s Envato
    /// items and licenses move to `into`, and `from` is removed, in one transaction. The
    /// licenses keep their keys, limits and activations.
    pub fn merge_products(&mut self, from: i64, into: i64, now: Timestamp) -> Result<(Product, u32)> {
        if from == into {
            return Err(Error::invalid_input("Choose two different products to merge.").with_field("into"));
        }
        let (a, b) = (self.product(from)?, self.product(into)?);
        let missing = |id: i64| Error::new(ErrorCode::ProductNotFound, format!("There is no product with ID {id}."));
        let a = a.ok_or_else(|| missing(from))?;
        let b = b.ok_or_else(|| missing(into))?;
        let moved = self.write(|tx| {
            // Releases follow only into a product without releases of its own (two plugins'
            // version histories cannot be one), and the update slug with them.
            let count = |id: i64| -> Result<i64> {
                Ok(tx
                    .prepare_cached("SELECT count(*) FROM releases WHERE product_id = ?1")?
                    .query_row([id], |r| r.get(0))?)
            };
            if count(from)? > 0 {
                if count(into)? > 0 {
                    return Err(Error::new(
                        ErrorCode::InputInvalid,
                        format!(
                            "Both “{}” and “{}” have releases; merge a product with releases only into one without.",
                            a.name, b.name
                        ),
                    )
                    .with_field("into"));
                }
                tx.execute("UPDATE releases SET product_id = ?2 WHERE product_id = ?1", params![from, into])?;
                let (slug, kind): (Option<String>, Option<String>) = tx
                    .prepare_cached("SELECT update_slug, update_kind FROM products WHERE id = ?1")?
                    .query_row([from], |r| Ok((r.get(0)?, r.get(1)?)))?;
                tx.execute("UPDATE products SET update_slug = NULL WHERE id = ?1", [from])?;
                tx.execute(
                    "UPDATE products SET update_slug = ?2, update_kind = ?3 WHERE id = ?1 AND update_slug IS NULL",
                    params![into, slug, kind],
                )?;
            }
            tx.execute("UPDATE product_envato_items SET product_id = ?2 WHERE product_id = ?1", params![from, into])?;
            let moved = tx.execute(
                "UPDATE licenses SET product_id = ?2, updated_at = ?3 WHERE product_id = ?1",
                params![from, into, to_db(now)],
            )?;
            tx.execute("UPDATE audit_log SET product_id = ?2 WHERE product_id = ?1", params![from, into])?;
            tx.execute("DELETE FROM products WHERE id = ?1", [from])?;
            tx.execute("UPDATE products SET updated_at = ?2 WHERE id = ?1", params![into, to_db(now)])?;
            insert_audit(
                tx,
                &AuditEntry::new(
                    now,
                    AuditLevel::Info,
                    "product.merged",
                    format!(
                        "“{}” merged into “{}”: Envato items {:?} and {moved} license{} moved.",
                        a.name,
                        b.name,
                        a.envato_item_ids,
                        if moved == 1 { "" } else { "s" }
                    ),
                )
                .product(into),
            )?;
            Ok(moved as u32)
        })?;
        Ok((self.product(into)?.ok_or_else(|| missing(into))?, moved))
    }

    /// "Mark reviewed": an auto-created product the seller has checked (name, limit, type).
    pub fn mark_product_reviewed(&mut self, id: i64, now: Timestamp) -> Result<Product> {
        self.write(|tx| {
            let n = tx.execute(
                "UPDATE products SET reviewed_at = coalesce(reviewed_at, ?2) WHERE id = ?1",
                params![id, to_db(now)],
            )?;
            if n == 0 {
                return Err(Error::new(ErrorCode::ProductNotFound, format!("There is no product with ID {id}.")));
            }
            insert_audit(
                tx,
                &AuditEntry::new(now, AuditLevel::Info, "product.reviewed", "Marked reviewed.").product(id),
            )?;
            Ok(())
        })?;
        self.product(id)?.ok_or_else(|| Error::internal("The product vanished."))
    }

    /// The products as matching needs them.
    pub fn product_index(&self) -> Result<ProductIndex> {
        product_index_in(&self.conn)
    }

    /// Review action: create the product from the Envato item (as auto-create would) and turn
    /// its waiting sales into licenses.
    pub fn review_create_product(&mut self, item_id: i64, now: Timestamp) -> Result<(Product, u32)> {
        let (name, html) = self.review_item_exists(item_id)?.ok_or_else(|| no_review_item(item_id))?;
        let settings = self.settings()?;
        let description = crate::plan::text_from_html(&html);
        let (product_id, n) = self.write(|tx| {
            let id = insert_product_for_item(
                tx,
                item_id,
                &name,
                &description,
                settings.default_activation_limit,
                settings.default_license_type.as_str(),
                now,
            )?;
            let n = promote_pending(tx, item_id, id, now)?;
            Ok((id, n))
        })?;
        Ok((self.product(product_id)?.ok_or_else(|| Error::internal("The new product vanished."))?, n))
    }

    /// Review action: link the item to an existing product and turn its waiting sales into licenses.
    pub fn review_map(&mut self, item_id: i64, product_id: i64, now: Timestamp) -> Result<(Product, u32)> {
        let product = self.product(product_id)?.ok_or_else(|| {
            Error::new(ErrorCode::ProductNotFound, format!("There is no product with ID {product_id}."))
        })?;
        self.review_item_exists(item_id)?.ok_or_else(|| no_review_item(item_id))?;
        let n = self.write(|tx| {
            link_item(tx, item_id, product_id)?;
            insert_audit(
                tx,
                &AuditEntry::new(
                    now,
                    AuditLevel::Info,
                    "product.item_linked",
                    format!("Envato item {item_id} linked to “{}”.", product.name),
                )
                .product(product_id),
            )?;
            promote_pending(tx, item_id, product_id, now)
        })?;
        Ok((self.product(product_id)?.ok_or_else(|| Error::internal("The product vanished."))?, n))
    }

    pub fn create_product(&mut self, new: &NewProduct, now: Timestamp) -> Result<Product> {
        let settings = self.settings()?;
        let p = new.validate(settings.default_activation_limit, settings.default_license_type)?;
        let id = self.write(|tx| {
            if let Some(sku) = &p.sku {
                let taken: Option<String> =
                    tx.query_row("SELECT name FROM products WHERE sku = ?1", [sku], |r| r.get(0)).optional()?;
                if let Some(name) = taken {
                    return Err(Error::new(
                        ErrorCode::ProductDuplicateSku,
                        format!("The SKU “{sku}” already belongs to “{name}”."),
                    )
                    .with_field("sku"));
                }
            }
            tx.execute(
                "INSERT INTO products (name, description, sku, activation_limit, license_type, status, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)",
                params![p.name, p.description, p.sku, p.activation_limit, p.license_type.as_str(), p.status.as_str(), to_db(now)],
            )?;
            let id = tx.last_insert_rowid();
            for item in &p.envato_item_ids {
                link_item(tx, *item, id)?;
                // Sales of this item waiting in the review queue become its licenses.
                promote_pending(tx, *item, id, now)?;
            }
            insert_audit(tx, &AuditEntry::new(now, AuditLevel::Info, "product.created", format!("Product “{}” created.", p.name)).product(id))?;
            Ok(id)
        })?;
        self.product(id)?.ok_or_else(|| Error::internal("The new product vanished."))
    }

    /// Changes a product. Item IDs are replaced by the given set: links not in it are removed,
    /// new ones added (and their waiting sales become licenses). Licenses keep their limit and type.
    pub fn update_product(&mut self, id: i64, new: &NewProduct, now: Timestamp) -> Result<Product> {
        let settings = self.settings()?;
        let current = self
            .product(id)?
            .ok_or_else(|| Error::new(ErrorCode::ProductNotFound, format!("There is no product with ID {id}.")))?;
        let p = new.validate(settings.default_activation_limit, settings.default_license_type)?;
        self.write(|tx| {
            if let Some(sku) = &p.sku {
                let taken: Option<String> =
                    tx.query_row("SELECT name FROM products WHERE sku = ?1 AND id <> ?2", params![sku, id], |r| r.get(0)).optional()?;
                if let Some(name) = taken {
                    return Err(Error::new(ErrorCode::ProductDuplicateSku, format!("The SKU “{sku}” already belongs to “{name}”."))
                        .with_field("sku"));
                }
            }
            tx.execute(
                "UPDATE products SET name = ?2, description = ?3, sku = ?4, activation_limit = ?5, license_type = ?6, status = ?7,
                        updated_at = ?8 WHERE id = ?1",
                params![id, p.name, p.description, p.sku, p.activation_limit, p.license_type.as_str(), p.status.as_str(), to_db(now)],
            )?;
            for old in current.envato_item_ids.iter().filter(|i| !p.envato_item_ids.contains(i)) {
                tx.execute("DELETE FROM product_envato_items WHERE item_id = ?1 AND product_id = ?2", params![old, id])?;
            }
            for item in p.envato_item_ids.iter().filter(|i| !current.envato_item_ids.contains(i)) {
                link_item(tx, *item, id)?;
                promote_pending(tx, *item, id, now)?;
            }
            insert_audit(tx, &AuditEntry::new(now, AuditLevel::Info, "product.updated", format!("Product “{}” updated.", p.name)).product(id))?;
            Ok(())
        })?;
        self.product(id)?.ok_or_else(|| Error::internal("The product vanished."))
    }

    /// Licenses sold per day and product since `from` (for the dashboard chart).
    pub fn sales_per_day(&self, from: Timestamp) -> Result<Vec<(String, i64, u32, i64)>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT substr(sold_at, 1, 10), product_id, count(*), coalesce(sum(amount_cents), 0) FROM licenses
             WHERE sold_at >= ?1 GROUP BY 1, 2 ORDER BY 1, 2",
        )?;
        let rows = stmt
            .query_map([to_db(from)], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    pub fn product(&self, id: i64) -> Result<Option<Product>> {
        Ok(self
            .conn
            .prepare_cached(&format!("{SELECT} WHERE p.id = ?1"))?
            .query_row([id], row_to_product)
            .optional()?)
    }

    pub fn products(&self) -> Result<Vec<Product>> {
        let mut stmt = self.conn.prepare_cached(&format!("{SELECT} ORDER BY p.name COLLATE NOCASE, p.id"))?;
        let rows = stmt.query_map([], row_to_product)?.collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    /// The product an Envato item is linked to, if any.
    pub fn product_for_item(&self, item_id: i64) -> Result<Option<i64>> {
        Ok(self
            .conn
            .prepare_cached("SELECT product_id FROM product_envato_items WHERE item_id = ?1")?
            .query_row([item_id], |r| r.get(0))
            .optional()?)
    }
}

pub(crate) fn link_item(tx: &Transaction<'_>, item_id: i64, product_id: i64) -> Result<()> {
    let owner: Option<(i64, String)> = tx
        .query_row(
            "SELECT p.id, p.name FROM product_envato_items e JOIN products p ON p.id = e.product_id WHERE e.item_id = ?1",
            [item_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    match owner {
        Some((id, _)) if id == product_id => Ok(()),
        Some((_, name)) => Err(Error::new(
            ErrorCode::ProductItemTaken,
            format!("Envato item {item_id} is already linked to “{name}”; an item belongs to one product."),
        )
        .with_field("envato_item_ids")),
        None => {
            tx.execute(
                "INSERT INTO product_envato_items (item_id, product_id) VALUES (?1, ?2)",
                params![item_id, product_id],
            )?;
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::parse;

    #[test]
    fn create_list_and_conflicts() {
        let now = parse("2026-11-28T10:00:00Z").unwrap();
        let mut store = Store::open_in_memory().unwrap();
        let a = store
            .create_product(
                &NewProduct {
                    name: "Avada".into(),
                    sku: Some("AVADA".into()),
                    envato_item_ids: Some(vec![2833226, 99]),
                    ..Default::default()
                },
                now,
            )
            .unwrap();
        assert_eq!(a.envato_item_ids, vec![99, 2833226]);
        assert_eq!(a.activation_limit, 1, "the settings' default");
        assert_eq!(store.product_for_item(99).unwrap(), Some(a.id));

        let err = store
            .create_product(&NewProduct { name: "Other".into(), sku: Some("AVADA".into()), ..Default::default() }, now)
            .unwrap_err();
        assert_eq!(err.code, ErrorCode::ProductDuplicateSku);
        let err = store
            .create_product(
                &NewProduct { name: "Other".into(), envato_item_ids: Some(vec![99]), ..Default::default() },
                now,
            )
            .unwrap_err();
        assert_eq!(err.code, ErrorCode::ProductItemTaken);
        assert_eq!(store.products().unwrap().len(), 1, "failed creations wrote nothing");
    }
}
