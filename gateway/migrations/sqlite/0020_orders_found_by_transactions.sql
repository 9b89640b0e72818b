-- A message's orders are found through its transactions (issue 12), so the index
-- of orders by message, written by every order stored, goes. A message stored
-- before migration 6 has orders but no transaction rows: each of its orders
-- becomes an `ok` transaction, numbered in the orders' id order (the order they
-- were listed in), as if it had been stored with them.
INSERT INTO transactions (message_id, idx, status, order_id)
SELECT o.message_id,
       row_number() OVER (PARTITION BY o.message_id ORDER BY o.id) - 1,
       'ok',
       o.id
FROM orders o
WHERE NOT EXISTS (SELECT 1 FROM transactions t WHERE t.message_id = o.message_id);

DROP INDEX orders_message_id;
