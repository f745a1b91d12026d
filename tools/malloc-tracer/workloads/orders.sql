-- A small order-processing database held in memory: tables filled from
-- recursive CTEs with a fixed arithmetic sequence (SQLite's random() would
-- differ from run to run), indexes built, then reports, updates and deletes
-- of the kind an application runs. Used by tools/malloc-tracer/record.mjs.
PRAGMA cache_size = -131072;
CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT, city TEXT, since INTEGER);
CREATE TABLE products (id INTEGER PRIMARY KEY, title TEXT, price REAL, stock INTEGER);
CREATE TABLE orders (id INTEGER PRIMARY KEY, customer INTEGER, product INTEGER, quantity INTEGER, day INTEGER, note TEXT);

WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 4000)
INSERT INTO customers SELECT i, 'customer ' || i || ' ' || substr('abcdefghijklmnopqrstuvwxyz', i % 26 + 1, 5),
  'city ' || (i * 7919 % 317), 2000 + i % 25 FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000)
INSERT INTO products SELECT i, 'product ' || i || ' ' || hex(i * 2654435761 % 4294967296), (i * 37 % 1000) / 10.0, i * 13 % 500 FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 15000)
INSERT INTO orders SELECT i, i * 7919 % 4000 + 1, i * 104729 % 1000 + 1, i % 9 + 1, i / 15,
  'order ' || i || ': ' || substr(replace(hex(zeroblob(1200)), '00', 'deliver to the back door, '), 1 + i % 40, 200 + i * 31 % 2600) FROM n;

CREATE INDEX orders_by_customer ON orders (customer);
CREATE INDEX orders_by_product ON orders (product, day);
CREATE INDEX customers_by_city ON customers (city);

SELECT c.city, count(*), sum(o.quantity * p.price) AS revenue
  FROM orders o JOIN customers c ON c.id = o.customer JOIN products p ON p.id = o.product
  GROUP BY c.city ORDER BY revenue DESC LIMIT 10;
SELECT p.title, sum(o.quantity) AS sold FROM orders o JOIN products p ON p.id = o.product
  GROUP BY p.id ORDER BY sold DESC LIMIT 10;
SELECT day, total, avg(total) OVER (ORDER BY day ROWS BETWEEN 6 PRECEDING AND CURRENT ROW)
  FROM (SELECT day, sum(quantity) AS total FROM orders GROUP BY day) ORDER BY day DESC LIMIT 10;
SELECT customer, group_concat(product, ',') FROM (SELECT customer, product FROM orders WHERE customer % 100 = 0 ORDER BY id)
  GROUP BY customer LIMIT 5;

UPDATE products SET stock = stock - (SELECT coalesce(sum(quantity), 0) FROM orders WHERE orders.product = products.id AND day > 900);
UPDATE orders SET note = 'returned ' || id WHERE id % 11 = 0;
DELETE FROM orders WHERE day < 200;
SELECT count(*), sum(quantity) FROM orders;
SELECT city, count(*) FROM customers WHERE id NOT IN (SELECT customer FROM orders) GROUP BY city ORDER BY 2 DESC LIMIT 5;
CREATE TABLE summary AS SELECT customer, count(*) AS n, sum(quantity) AS q, max(day) AS last FROM orders GROUP BY customer;
SELECT n, count(*) FROM summary GROUP BY n ORDER BY n;
DROP INDEX orders_by_product;
VACUUM;
SELECT count(*) FROM orders WHERE note LIKE 'returned%';
SELECT count(*), sum(length(note)) FROM orders;
