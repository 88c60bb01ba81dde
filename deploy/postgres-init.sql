-- One database per service (each owns its event streams, projections, outbox and inbox).
-- Runs once, when the postgres container initialises an empty volume. Same names as scripts/services.ts.
CREATE DATABASE flowline_order_intake;
CREATE DATABASE flowline_inventory;
CREATE DATABASE flowline_approval;
CREATE DATABASE flowline_fulfillment;
CREATE DATABASE flowline_notification;
CREATE DATABASE flowline_tracking;
CREATE DATABASE flowline_channel_gateway;
CREATE DATABASE flowline_analytics;
CREATE DATABASE flowline_console;
