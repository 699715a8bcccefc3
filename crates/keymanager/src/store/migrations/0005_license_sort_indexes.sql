-- Filtered license pages sorted by sale date stay index-only at a million rows.
CREATE INDEX licenses_status_sold ON licenses (status, coalesce(sold_at, ''), id);
CREATE INDEX licenses_product_sold ON licenses (product_id, coalesce(sold_at, ''), id);
CREATE INDEX licenses_marketplace_sold ON licenses (marketplace, coalesce(sold_at, ''), id);
