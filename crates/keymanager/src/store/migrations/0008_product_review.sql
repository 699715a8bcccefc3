-- Products created from an Envato item by Auto-Create wait for the seller's review ("review
-- auto-created products weekly"): flagged until marked reviewed.
ALTER TABLE products ADD COLUMN auto_created INTEGER NOT NULL DEFAULT 0;
ALTER TABLE products ADD COLUMN reviewed_at TEXT;
UPDATE products SET auto_created = 1
 WHERE id IN (SELECT product_id FROM audit_log WHERE action = 'product.auto_created' AND product_id IS NOT NULL);
