/**
 * A valid PlaceOrder gRPC request (a JD order of three phone cases, 110.00 yuan), every field given
 * (proto3 defaults: the typed client encodes what the object holds). `overrides` replace fields.
 */
export function placeOrderRequest(channelOrderId: string, requestId: string, overrides: Partial<Record<string, unknown>> = {}) {
  return {
    meta: { requestId, correlationId: '', actor: { kind: 'channel', id: 'jd-connector', role: 'system', name: '' } },
    channel: 'jd',
    channelOrderId,
    shopId: 'jd-self-run',
    customer: { channelCustomerId: 'jd_9981', nickname: '', name: '李四', phone: '13900001111', email: '', tags: [] },
    shippingAddress: { province: '北京市', city: '北京市', district: '朝阳区', street: '建国路', detail: '88号 SOHO 现代城 2 号楼 1501', postalCode: '100022', recipient: '李四', phone: '13900001111' },
    lines: [{ lineId: '', sku: 'PHONE-CASE-01', title: '手机壳', quantity: 3, unitPrice: 3990, lineDiscount: 0, category: 'accessory' }],
    shippingFee: 0,
    orderDiscount: 970,
    currency: 'CNY',
    buyerMessage: '',
    tags: [],
    attachments: [],
    placedAt: '',
    sellerRemark: '',
    paymentMethod: '',
    designatedCarrier: '',
    ...overrides,
  };
}
