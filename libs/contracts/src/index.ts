export * from './envelope';
export * from './topics';
export * from './orders/order.types';
export * from './orders/order.events';
export * from './inventory/inventory.messages';
export * from './approval/approval.messages';
export * from './fulfillment/fulfillment.messages';
export * from './generated';
