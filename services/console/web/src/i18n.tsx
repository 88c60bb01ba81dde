import { createContext, useContext, useMemo, useState, type ReactNode } from 'react';

/**
 * Every text a person reads, in zh-CN (default) and en. Reasons from the services come as a code
 * (+ params): `reason()` renders them from this catalogue, falling back to the server's own words.
 */
export type Lang = 'zh' | 'en';
type Entry = { zh: string; en: string };

const UI = {
  appTitle: { zh: 'Flowline 订单中台', en: 'Flowline order console' },
  board: { zh: '订单看板', en: 'Board' },
  orders: { zh: '订单', en: 'Orders' },
  inventory: { zh: '库存', en: 'Inventory' },
  approvals: { zh: '审批', en: 'Approvals' },
  warehouse: { zh: '仓库作业', en: 'Warehouse' },
  imports: { zh: '订单导入', en: 'Imports' },
  rules: { zh: '规则', en: 'Rules' },
  portal: { zh: '顾客查询', en: 'Customer portal' },
  login: { zh: '登录', en: 'Log in' },
  logout: { zh: '退出登录', en: 'Log out' },
  menu: { zh: '菜单', en: 'Menu' },
  loginHint: { zh: '使用公司账号登录（单点登录）。', en: 'Log in with your company account (single sign-on).' },
  loginFailed: { zh: '登录未成功，请重试', en: 'The login did not succeed, please try again' },
  user: { zh: '用户', en: 'User' },
  language: { zh: '语言', en: 'Language' },
  live: { zh: '实时', en: 'Live' },
  offline: { zh: '已断开，重连中', en: 'Disconnected, reconnecting' },
  channel: { zh: '渠道', en: 'Channel' },
  shop: { zh: '店铺', en: 'Shop' },
  stage: { zh: '阶段', en: 'Stage' },
  colour: { zh: '时效颜色', en: 'SLA colour' },
  all: { zh: '全部', en: 'All' },
  open: { zh: '在途', en: 'Open' },
  green: { zh: '正常', en: 'On time' },
  yellow: { zh: '预警', en: 'At risk' },
  red: { zh: '超时', en: 'Late' },
  none: { zh: '未计时', en: 'No clock' },
  stuck: { zh: '卡单', en: 'Stuck' },
  onHold: { zh: '挂起', en: 'On hold' },
  exception: { zh: '异常', en: 'Exception' },
  stuckList: { zh: '卡单列表', en: 'Stuck orders' },
  notShown: { zh: '单未显示（到订单页查看）', en: 'more not shown (see Orders)' },
  kpis: { zh: '指标', en: 'KPIs' },
  cycleTime: { zh: '各阶段耗时（小时）', en: 'Cycle time per stage (hours)' },
  rates: { zh: '比率', en: 'Rates' },
  exceptionRate: { zh: '异常率', en: 'Exception rate' },
  manualTouchRate: { zh: '人工干预率', en: 'Manual-touch rate' },
  autoIngestRate: { zh: '自动进单率', en: 'Auto-ingest rate' },
  cancellationRate: { zh: '取消率', en: 'Cancellation rate' },
  ordersPerChannel: { zh: '各渠道订单', en: 'Orders per channel' },
  ordersPerHour: { zh: '每小时下单', en: 'Orders per hour' },
  search: { zh: '搜索', en: 'Search' },
  searchHint: { zh: '订单号 / 渠道单号 / 顾客 / 手机尾号 / SKU', en: 'Order id / channel order id / customer / phone tail / SKU' },
  searchMode: { zh: '搜索方式', en: 'Search by' },
  searchModeAuto: { zh: '智能识别', en: 'Any' },
  searchModeOrder: { zh: '订单号', en: 'Order no.' },
  searchModePhoneTail: { zh: '手机尾号', en: 'Phone tail' },
  searchModeSku: { zh: 'SKU', en: 'SKU' },
  searchHintOrder: { zh: '订单号 / 渠道单号 / 顾客', en: 'Order id / channel order id / customer' },
  searchHintPhoneTail: { zh: '手机号后 4 位，如 1234', en: 'Last 4 digits of the phone, e.g. 1234' },
  searchHintSku: { zh: '商品编码（完整）', en: 'Full SKU code' },
  phoneTailInvalid: { zh: '手机尾号须为 4 位数字', en: 'A phone tail is exactly 4 digits' },
  more: { zh: '加载更多', en: 'Load more' },
  orderId: { zh: '订单号', en: 'Order id' },
  channelOrderId: { zh: '渠道单号', en: 'Channel order id' },
  customer: { zh: '顾客', en: 'Customer' },
  phone: { zh: '电话', en: 'Phone' },
  total: { zh: '应付', en: 'Total' },
  placedAt: { zh: '下单时间', en: 'Placed at' },
  paidAt: { zh: '付款时间', en: 'Paid at' },
  placedFrom: { zh: '下单日期从', en: 'Placed from' },
  placedTo: { zh: '下单日期至（含）', en: 'Placed until (inclusive)' },
  lines: { zh: '商品行', en: 'Lines' },
  sku: { zh: 'SKU', en: 'SKU' },
  title: { zh: '商品', en: 'Item' },
  quantity: { zh: '数量', en: 'Qty' },
  unitPrice: { zh: '单价', en: 'Unit price' },
  subtotal: { zh: '商品金额', en: 'Subtotal' },
  discount: { zh: '优惠', en: 'Discount' },
  shipping: { zh: '运费', en: 'Shipping' },
  paid: { zh: '已付', en: 'Paid' },
  refunded: { zh: '已退', en: 'Refunded' },
  timeline: { zh: '时间线', en: 'Timeline' },
  asOf: { zh: '历史时点', en: 'As of' },
  now: { zh: '现在', en: 'Now' },
  actions: { zh: '操作', en: 'Actions' },
  hold: { zh: '挂起', en: 'Hold' },
  releaseHold: { zh: '解除挂起', en: 'Release hold' },
  resolveException: { zh: '处理异常', en: 'Resolve exception' },
  cancel: { zh: '取消订单', en: 'Cancel order' },
  refund: { zh: '退款', en: 'Refund' },
  confirmRefund: { zh: '确认已退款', en: 'Confirm refunded' },
  refundPending: { zh: '退款中', en: 'Refund pending' },
  reason: { zh: '原因', en: 'Reason' },
  amountFen: { zh: '金额（元）', en: 'Amount (yuan)' },
  ok: { zh: '确定', en: 'OK' },
  done: { zh: '已完成', en: 'Done' },
  failed: { zh: '操作被拒绝', en: 'Refused' },
  revealPii: { zh: '查看完整信息', en: 'Reveal' },
  revealNeedsAbility: { zh: '订单服务尚无带审计的明文查看接口，当前仅显示脱敏信息', en: 'order-intake has no audited reveal endpoint yet; masked only for now' },
  address: { zh: '地址', en: 'Address' },
  carrier: { zh: '承运商', en: 'Carrier' },
  trackingNumber: { zh: '运单号', en: 'Tracking no.' },
  rule: { zh: '规则', en: 'Rule' },
  who: { zh: '操作人', en: 'Who' },
  notFound: { zh: '未找到', en: 'Not found' },
  loading: { zh: '加载中', en: 'Loading' },
  unavailable: { zh: '服务暂不可用', en: 'Service unavailable' },
  noPermission: { zh: '当前角色无此操作权限', en: 'Your role may not do this' },
  warehouseId: { zh: '仓库', en: 'Warehouse' },
  onHand: { zh: '在库', en: 'On hand' },
  reserved: { zh: '已占用', en: 'Reserved' },
  available: { zh: '可用', en: 'Available' },
  receipt: { zh: '入库', en: 'Receipt' },
  adjustment: { zh: '调整', en: 'Adjustment' },
  reference: { zh: '单据号', en: 'Reference' },
  verifyLedger: { zh: '账本校验', en: 'Verify ledger' },
  reservations: { zh: '订单占用', en: 'Reservations' },
  lowStock: { zh: '低库存', en: 'Low stock' },
  approve: { zh: '同意', en: 'Approve' },
  reject: { zh: '驳回', en: 'Reject' },
  returnForChanges: { zh: '退回修改', en: 'Return' },
  bulkApprove: { zh: '批量同意', en: 'Bulk approve' },
  comment: { zh: '意见', en: 'Comment' },
  step: { zh: '步骤', en: 'Step' },
  due: { zh: '截止', en: 'Due' },
  chain: { zh: '审批链', en: 'Chain' },
  myInbox: { zh: '我的待办', en: 'My inbox' },
  allPending: { zh: '全部待审', en: 'All pending' },
  allPendingHint: { zh: '所有等待审批的步骤（最早的在前）：卡在哪一步、等谁处理、是否超时。审批仍在各自的待办里完成。', en: 'Every step waiting for a decision, oldest first: where it stands, whom it waits for, whether it is late. Decisions are made from each approver\'s inbox.' },
  waitingFor: { zh: '等待', en: 'Waiting for' },
  startedAt: { zh: '开始', en: 'Started' },
  escalated: { zh: '已升级', en: 'Escalated' },
  anyRole: { zh: '全部角色', en: 'Any role' },
  empty: { zh: '暂无数据', en: 'Nothing here' },
  // --- Approvals: return / resubmit, delegate (转交), the approval detail and its change diff ---
  returnedTab: { zh: '退回待重提', en: 'Returned for changes' },
  returnedHint: { zh: '审批人退回修改的申请：按退回意见处理后重新提交，退回的那一步会重新审批。', en: 'Requests an approver returned for changes: deal with the comment, then resubmit; the returning step decides again.' },
  resubmit: { zh: '重新提交', en: 'Resubmit' },
  resubmitComment: { zh: '修改说明', en: 'What was changed' },
  returnedBy: { zh: '退回人', en: 'Returned by' },
  returnedAt: { zh: '退回时间', en: 'Returned at' },
  returnComment: { zh: '退回意见', en: 'Return comment' },
  requestedBy: { zh: '申请人', en: 'Requested by' },
  mine: { zh: '我的', en: 'Mine' },
  delegate: { zh: '转交', en: 'Delegate' },
  delegateTo: { zh: '转交给（用户账号）', en: 'Delegate to (user id)' },
  delegateHint: { zh: '转交后这一步由对方审批，并从您的待办中移除。', en: 'The person you name decides this step instead; it leaves your inbox.' },
  delegateSelf: { zh: '不能转交给自己', en: 'You cannot delegate to yourself' },
  userIdFormat: { zh: '请输入用户账号（字母、数字、-、_）', en: 'Enter a user id (letters, digits, - and _)' },
  stepState: { zh: '状态', en: 'State' },
  decidedAt: { zh: '处理时间', en: 'Decided at' },
  changeDiff: { zh: '变更内容', en: 'Change' },
  changeItem: { zh: '变更项', en: 'What' },
  lineAdded: { zh: '新增商品', en: 'Line added' },
  lineRemoved: { zh: '删除商品', en: 'Line removed' },
  quantityChanged: { zh: '数量变更', en: 'Quantity changed' },
  shippingAddressChange: { zh: '收货地址', en: 'Shipping address' },
  shippingMethodChange: { zh: '配送方式', en: 'Carrier service' },
  invoiceChange: { zh: '发票', en: 'Invoice' },
  grandTotal: { zh: '订单总额', en: 'Order total' },
  priceDifference: { zh: '差价', en: 'Price difference' },
  dueFromCustomer: { zh: '顾客需补款', en: 'due from the customer' },
  refundToCustomer: { zh: '退还顾客', en: 'refunded to the customer' },
  noPriceChange: { zh: '金额不变', en: 'no change' },
  changeNote: { zh: '变更说明', en: 'Note' },
  addressMaskedHint: { zh: '省、市、区和邮编为明文；街道门牌、收件人和电话按个人信息规则遮蔽，明文只在批准后随变更送达订单服务。', en: 'Province, city, district and postcode in clear; street, recipient and phone are masked by the personal-data rules: the clear values go to the order service only once approved.' },
  personalInvoice: { zh: '个人', en: 'Personal' },
  companyInvoice: { zh: '单位', en: 'Company' },
  // --- end approvals ---
  pickList: { zh: '拣货单', en: 'Pick list' },
  scanToPack: { zh: '扫码装箱', en: 'Scan to pack' },
  scanHere: { zh: '扫描条码（扫码枪输入后回车）', en: 'Scan a barcode (wedge scanner, then Enter)' },
  shipment: { zh: '包裹', en: 'Shipment' },
  label: { zh: '面单数据', en: 'Label data' },
  pack: { zh: '完成装箱', en: 'Pack' },
  upload: { zh: '上传平台导出文件', en: 'Upload a platform export' },
  profile: { zh: '模板', en: 'Profile' },
  report: { zh: '导入报告', en: 'Import report' },
  quarantine: { zh: '隔离行', en: 'Quarantined rows' },
  fixRetry: { zh: '修正并重试', en: 'Fix and retry' },
  portalTitle: { zh: '订单查询', en: 'Track my order' },
  portalHint: { zh: '输入订单号和下单手机号', en: 'Enter your order number and phone' },
  orderNo: { zh: '订单号', en: 'Order number' },
  changeRequest: { zh: '发起订单变更', en: 'Request a change' },
  lowStockList: { zh: '低库存清单', en: 'Low stock' },
  shortageList: { zh: '缺货订单', en: 'Orders waiting for stock' },
  shortageHint: { zh: '库存不足、无法预占的订单，按 SKU 汇总。系统每分钟自动按下单先后尝试可用库存够的订单；到货入库后也可点“重新预占”立即尝试，不够的继续等待。', en: 'Orders inventory could not reserve, by SKU. Every minute Flowline tries the orders the available stock covers, first placed first; after a receipt, "Reserve again" tries them at once. The rest keep waiting.' },
  waitingOrders: { zh: '等待订单', en: 'Waiting orders' },
  unitsRequested: { zh: '需求件数', en: 'Units requested' },
  waitingSince: { zh: '最早等待', en: 'Waiting since' },
  availableThen: { zh: '当时可用', en: 'Available then' },
  reserveAgain: { zh: '重新预占', en: 'Reserve again' },
  reservedAgain: { zh: '已重新尝试预占', en: 'Tried again' },
  stillWaiting: { zh: '库存不足继续等待', en: 'still waiting for stock' },
  handledElsewhere: { zh: '已由他人处理', en: 'already handled elsewhere' },
  returnsReceiving: { zh: '退货入库', en: 'Returns receiving' },
  interceptTasks: { zh: '拦截任务', en: 'Intercept tasks' },
  interceptConfirm: { zh: '已拦截', en: 'Intercepted' },
  interceptReject: { zh: '拦截失败', en: 'Could not intercept' },
  since: { zh: '发起时间', en: 'Since' },
  noReturns: { zh: '该订单没有退货', en: 'No returns for this order' },
  returnReceived: { zh: '已入库', en: 'Received' },
  expectedQty: { zh: '应退数量', en: 'Expected' },
  returnExpected: { zh: '待收货', en: 'Expected' },
  condition: { zh: '状态', en: 'Condition' },
  resellable: { zh: '完好可售', en: 'Resellable' },
  damaged: { zh: '损坏报废', en: 'Damaged' },
  receiveReturn: { zh: '确认入库', en: 'Receive' },
  lowStockThreshold: { zh: '预警阈值', en: 'Threshold' },
  shortfall: { zh: '缺口', en: 'Shortfall' },
  changeRaised: { zh: '变更申请已提交审批', en: 'Change request sent for approval' },
  before: { zh: '变更前', en: 'Before' },
  after: { zh: '变更后', en: 'After' },
  removeLine: { zh: '删除此行', en: 'Remove line' },
  required: { zh: '必填', en: 'Required' },
  phoneFormat: { zh: '请输入 11 位手机号', en: 'Enter an 11-digit mobile number' },
  codeFormat: { zh: '请输入 6 位验证码', en: 'Enter the 6-digit code' },
  resendCode: { zh: '重新发送验证码', en: 'Send the code again' },
  codeSent: { zh: '如订单号与手机号匹配，验证码已通过短信发送，5 分钟内有效。', en: 'If the order number and phone match, a code was sent by SMS; it is valid for 5 minutes.' },
  oneTimeCode: { zh: '短信验证码', en: 'One-time code' },
  viewMyOrder: { zh: '查看我的订单', en: 'View my order' },
  portalNoOrders: { zh: '没有可查看的订单', en: 'No orders to show' },
  portalNoParcel: { zh: '尚未发货', en: 'Not shipped yet' },
  expectedShipSoon: { zh: '付款后尽快发货', en: 'Soon after payment' },
  portalRequestCancel: { zh: '申请取消订单', en: 'Cancel my order' },
  portalChangeAddress: { zh: '修改收货地址', en: 'Change the address' },
  portalCancelled: { zh: '订单已取消', en: 'The order is cancelled' },
  portalChangeRequested: { zh: '修改申请已提交，审核后生效', en: 'Your change request is submitted; it applies once approved' },
  province: { zh: '省', en: 'Province' },
  city: { zh: '市', en: 'City' },
  district: { zh: '区/县', en: 'District' },
  street: { zh: '街道及门牌', en: 'Street and number' },
  currentAddress: { zh: '当前收货信息（已脱敏，仅供参考）', en: 'Current delivery details (masked, for reference)' },
  recipient: { zh: '收件人', en: 'Recipient' },
  postalCode: { zh: '邮编', en: 'Postcode' },
  changeAddress: { zh: '修改收货地址', en: 'Change the delivery address' },
  changeAddressHint: { zh: '请完整填写新地址：街道门牌须明文输入（不能使用带 * 的脱敏内容）。收件人和电话不填则保持不变。', en: 'Enter the whole new address: type the street in clear (not the masked text with *). Leave recipient and phone empty to keep them.' },
  newStreet: { zh: '新街道及门牌（明文）', en: 'New street and number (in clear)' },
  addressDetail: { zh: '详细地址（楼栋、单元、门牌）', en: 'Address detail (building, unit, door)' },
  newRecipient: { zh: '新收件人（不填则不变）', en: 'New recipient (empty: unchanged)' },
  newPhone: { zh: '新电话（不填则不变）', en: 'New phone (empty: unchanged)' },
  phoneDigits: { zh: '电话只能包含数字', en: 'A phone has digits only' },
  typeInClear: { zh: '请输入明文，不能使用带 * 的脱敏内容', en: 'Type it in clear, not the masked text with *' },
  overrideReason: { zh: '总经理特批理由（订单已打包时填写）', en: 'Manager override reason (when the order is packed)' },
  overrideHint: { zh: '填写后，已打包冻结的订单也可提交变更，并记录特批。', en: 'With a reason, a change to a packed (frozen) order goes through, recorded as an override.' },
  overrideRequired: { zh: '订单已冻结：请填写特批理由', en: 'The order is frozen: give an override reason' },
  sendCode: { zh: '获取验证码', en: 'Send code' },
  code: { zh: '验证码', en: 'Code' },
  view: { zh: '查看', en: 'View' },
  expectedShip: { zh: '预计发货', en: 'Expected to ship' },
  notifications: { zh: '已发通知', en: 'Notifications sent' },
  rowsRead: { zh: '读取行数', en: 'Rows read' },
  ordersSeen: { zh: '订单数', en: 'Orders' },
  imported: { zh: '已导入', en: 'Imported' },
  rejected: { zh: '被拒绝', en: 'Rejected' },
  row: { zh: '行号', en: 'Row' },
  orderFile: { zh: '订单报表', en: 'Order file' },
  itemsFile: { zh: '宝贝报表', en: 'Items file' },
  itemsFileHint: { zh: '此模板需要两个文件：订单报表和对应的宝贝报表（商品明细），都选好后点“开始导入”。', en: 'This profile takes two files: the order file (订单报表) and its items file (宝贝报表); choose both, then Start import.' },
  startImport: { zh: '开始导入', en: 'Start import' },
  profileSuggested: { zh: '文件的列符合以下模板，请选择后重新导入', en: "The file's columns fit these profiles: pick one and import again" },
  fileName: { zh: '文件', en: 'File' },
  rowsSkipped: { zh: '跳过的行', en: 'Rows skipped' },
  blankRows: { zh: '空行', en: 'blank' },
  summaryRows: { zh: '合计行', en: 'summary' },
  repeatedRows: { zh: '重复行', en: 'repeated' },
  duplicates: { zh: '重复（此前已导入）', en: 'Duplicates (imported before)' },
  updated: { zh: '已更新（平台状态变更）', en: 'Updated (platform status changes)' },
  waiting: { zh: '待成团', en: 'Waiting for the group' },
  refusedChanges: { zh: '未同步的状态变更', en: 'Status changes refused' },
  dryRun: { zh: '试导入（未写入）', en: 'Dry run (nothing written)' },
  resumed: { zh: '续传', en: 'Resumed' },
  fixRejected: { zh: '重试仍被拒绝，请按原因修正后再试', en: 'The retry was refused again: fix what the reasons say and retry' },
  carrierState: { zh: '物流状态', en: 'Carrier status' },
  warehousePaused: { zh: '仓库已暂停', en: 'Warehouse paused' },
  template: { zh: '模板', en: 'Template' },
  notificationRules: { zh: '通知规则', en: 'Notification rules' },
  preview: { zh: '预览', en: 'Preview' },
  analytics: { zh: '经营分析', en: 'Analytics' },
  dateFrom: { zh: '开始日期', en: 'From' },
  dateTo: { zh: '结束日期（不含）', en: 'To (exclusive)' },
  revenueYuan: { zh: '销售额（元）', en: 'Revenue (yuan)' },
  revenue: { zh: '销售额', en: 'Revenue' },
  aov: { zh: '客单价', en: 'AOV' },
  refunds: { zh: '退款', en: 'Refunds' },
  net: { zh: '净额', en: 'Net' },
  units: { zh: '件数', en: 'Units' },
  repeatRate: { zh: '复购率', en: 'Repeat-purchase rate' },
  salesByDay: { zh: '按日销售', en: 'Sales by day' },
  salesByHour: { zh: '按小时销售', en: 'Sales by hour' },
  salesByWeekday: { zh: '按星期销售', en: 'Sales by weekday' },
  salesByChannel: { zh: '按渠道销售', en: 'Sales by channel' },
  topSkus: { zh: '热销 SKU', en: 'Top SKUs' },
  rfmSegments: { zh: 'RFM 客户分层', en: 'RFM segments' },
  skuPairs: { zh: '关联购买 SKU', en: 'SKUs bought together' },
  support: { zh: '支持度', en: 'Support' },
  confidence: { zh: '置信度', en: 'Confidence' },
  lift: { zh: '提升度', en: 'Lift' },
  together: { zh: '同单次数', en: 'Together' },
  forecast: { zh: '需求预测（14 天）', en: 'Demand forecast (14 days)' },
  history: { zh: '历史', en: 'History' },
  modelForecast: { zh: '模型预测', en: 'Model forecast' },
  baselineForecast: { zh: '季节性朴素基线', en: 'Seasonal naive baseline' },
  interval: { zh: '预测区间', en: 'Prediction interval' },
  backtestSmape: { zh: '回测 sMAPE', en: 'Backtest sMAPE' },
  chosen: { zh: '采用', en: 'Used' },
  purchaseSuggestions: { zh: '采购建议', en: 'Purchase suggestions' },
  demandOverLeadTime: { zh: '提前期需求', en: 'Demand over lead time' },
  safetyStock: { zh: '安全库存', en: 'Safety stock' },
  inbound: { zh: '在途', en: 'Inbound' },
  suggestedQuantity: { zh: '建议采购量', en: 'Suggested quantity' },
  packSize: { zh: '包装规格', en: 'Pack size' },
  reconciliation: { zh: '每日对账', en: 'Daily reconciliation' },
  platform: { zh: '平台', en: 'Platform' },
  day: { zh: '日期', en: 'Day' },
  ordersReconciled: { zh: '已对平订单', en: 'Orders reconciled' },
  discrepancies: { zh: '差异', en: 'Discrepancies' },
  expected: { zh: '应为', en: 'Expected' },
  actual: { zh: '实际', en: 'Actual' },
  difference: { zh: '差额', en: 'Difference' },
  issue: { zh: '问题', en: 'Issue' },
  downloadCsv: { zh: '下载 CSV', en: 'Download CSV' },
  downloadXlsx: { zh: '下载 XLSX', en: 'Download XLSX' },
  cannotShowSuffix: { zh: '：暂时无法显示', en: ': cannot be shown' },
  cannotShowHint: { zh: '页面其余部分不受影响；请更换筛选条件或刷新页面后重试。如仍出现，请将以下信息告知管理员：', en: 'The rest of the page still works; change the filters or reload to try again. If it persists, tell an administrator:' },
  thisScreen: { zh: '此页面', en: 'This screen' },
} satisfies Record<string, Entry>;

/** Analytics labels: RFM segments, reconciliation issues, weekdays (1 = Monday). */
export const RFM_SEGMENT_NAMES: Record<string, Entry> = {
  champions: { zh: '重要价值客户', en: 'Champions' },
  loyal: { zh: '忠诚客户', en: 'Loyal' },
  new_customers: { zh: '新客户', en: 'New customers' },
  at_risk: { zh: '流失风险', en: 'At risk' },
  needs_attention: { zh: '需关注', en: 'Needs attention' },
  hibernating: { zh: '沉睡客户', en: 'Hibernating' },
};
export const RECON_ISSUES: Record<string, Entry> = {
  missing_settlement: { zh: '平台未结算', en: 'Missing settlement' },
  amount_mismatch: { zh: '结算金额不符', en: 'Amount mismatch' },
  fee_mismatch: { zh: '手续费不符', en: 'Fee mismatch' },
  refund_not_settled: { zh: '退款未结算', en: 'Refund not settled' },
  refund_over_settled: { zh: '退款多结算', en: 'Refund over-settled' },
  unknown_order: { zh: '未知订单', en: 'Unknown order' },
};
export const WEEKDAYS: Record<string, Entry> = {
  '1': { zh: '周一', en: 'Mon' }, '2': { zh: '周二', en: 'Tue' }, '3': { zh: '周三', en: 'Wed' }, '4': { zh: '周四', en: 'Thu' },
  '5': { zh: '周五', en: 'Fri' }, '6': { zh: '周六', en: 'Sat' }, '7': { zh: '周日', en: 'Sun' },
};
export type UiKey = keyof typeof UI;

/** Stage names (the tracking service also sends stageLabel {zh,en}; this is for filters and charts). */
export const STAGES: Record<string, Entry> = {
  placed: { zh: '已下单', en: 'Placed' },
  paid: { zh: '已付款', en: 'Paid' },
  stock_reserved: { zh: '已锁库存', en: 'Stock reserved' },
  awaiting_approval: { zh: '待审批', en: 'Awaiting approval' },
  ready_to_ship: { zh: '待发货', en: 'Ready to ship' },
  packed: { zh: '已打包', en: 'Packed' },
  shipped: { zh: '已发货', en: 'Shipped' },
  delivered: { zh: '已签收', en: 'Delivered' },
  cancelled: { zh: '已取消', en: 'Cancelled' },
  refunded: { zh: '已退款', en: 'Refunded' },
  archived: { zh: '已归档', en: 'Archived' },
};
export const BOARD_STAGES = ['placed', 'paid', 'stock_reserved', 'awaiting_approval', 'ready_to_ship', 'packed', 'shipped'] as const;

/** Parcel states (fulfillment). */
export const SHIPMENT_STATUS: Record<string, Entry> = {
  created: { zh: '待拣货', en: 'To pick' },
  picking: { zh: '拣货中', en: 'Picking' },
  packed: { zh: '已装箱', en: 'Packed' },
  shipped: { zh: '已发货', en: 'Shipped' },
  delivered: { zh: '已签收', en: 'Delivered' },
  intercept_requested: { zh: '待拦截', en: 'Intercept requested' },
  intercepted: { zh: '已拦截', en: 'Intercepted' },
  stopped: { zh: '已停止', en: 'Stopped' },
  awaiting_production: { zh: '待生产', en: 'Awaiting production' },
  in_transit: { zh: '运输中', en: 'In transit' },
  carrier_exception: { zh: '物流异常', en: 'Carrier problem' },
  returned: { zh: '已退回', en: 'Returned' },
};

/** Carrier states a parcel reports (fulfillment CarrierState). */
export const CARRIER_STATE: Record<string, Entry> = {
  picked_up: { zh: '已揽收', en: 'Picked up' },
  in_transit: { zh: '运输中', en: 'In transit' },
  out_for_delivery: { zh: '派件中', en: 'Out for delivery' },
  delivered: { zh: '已签收', en: 'Delivered' },
  problem: { zh: '疑难件', en: 'Problem' },
  returning: { zh: '退回中', en: 'Returning' },
  returned: { zh: '已退回', en: 'Returned' },
};

export const CHANNELS: Record<string, Entry> = {
  taobao: { zh: '淘宝', en: 'Taobao' },
  tmall: { zh: '天猫', en: 'Tmall' },
  jd: { zh: '京东', en: 'JD' },
  pinduoduo: { zh: '拼多多', en: 'Pinduoduo' },
  douyin: { zh: '抖音', en: 'Douyin' },
  web: { zh: '官网', en: 'Web store' },
  offline: { zh: '门店', en: 'Offline' },
  shopify: { zh: 'Shopify', en: 'Shopify' },
};

/**
 * Names of the approval steps and chains of the shipped chain set (services/approval/chains). A
 * chain set may define others: those show their id (stepName / chainName fall back to it).
 */
export const APPROVAL_STEPS: Record<string, Entry> = {
  sales_review: { zh: '销售审核', en: 'Sales review' },
  design_review: { zh: '设计审核', en: 'Design review' },
  cost_review: { zh: '成本核算', en: 'Cost review' },
  gm_approval: { zh: '总经理审批', en: 'General manager approval' },
  cs_review: { zh: '客服审核', en: 'Customer service review' },
  warehouse_review: { zh: '仓库审核', en: 'Warehouse review' },
  finance_review: { zh: '财务审核', en: 'Finance review' },
};

export const APPROVAL_CHAINS: Record<string, Entry> = {
  'custom-order': { zh: '定制订单审批', en: 'Custom order approval' },
  'large-order': { zh: '大额订单审批', en: 'Large order approval' },
  'order-change': { zh: '订单变更审批', en: 'Order change approval' },
};

/** States of an approval step (approval's StepStatus) and of a whole approval, as people read them. */
export const APPROVAL_STEP_STATES: Record<string, Entry> = {
  waiting: { zh: '未开始', en: 'Not reached' },
  active: { zh: '审批中', en: 'In progress' },
  approved: { zh: '已通过', en: 'Approved' },
  rejected: { zh: '已驳回', en: 'Rejected' },
  returned: { zh: '已退回修改', en: 'Returned for changes' },
  skipped: { zh: '已跳过', en: 'Skipped' },
  expired: { zh: '已超时', en: 'Expired' },
};
export const APPROVAL_STATES: Record<string, Entry> = {
  pending: { zh: '审批中', en: 'Pending' },
  returned: { zh: '退回修改', en: 'Returned for changes' },
  granted: { zh: '已批准', en: 'Granted' },
  rejected: { zh: '已驳回', en: 'Rejected' },
  withdrawn: { zh: '已撤回', en: 'Withdrawn' },
};

/**
 * Refusals by stable code (DomainError codes, validation, transport). `{name}` is filled from the
 * problem's details/params. Unknown codes fall back to the server's message, shown with the code.
 */
const REASONS: Record<string, Entry> = {
  ORDER_ILLEGAL_TRANSITION: { zh: '订单当前阶段不允许此操作', en: 'The order cannot do this in its current stage' },
  ORDER_ON_HOLD: { zh: '订单已挂起，请先解除挂起', en: 'The order is on hold; release it first' },
  ORDER_NOT_ON_HOLD: { zh: '订单未挂起', en: 'The order is not on hold' },
  ORDER_NOT_FOUND: { zh: '订单不存在', en: 'No such order' },
  ORDER_VERSION_MISMATCH: { zh: '订单已被他人修改，请刷新后重试', en: 'Someone changed the order meanwhile; reload and retry' },
  ORDER_CONCURRENT_MODIFICATION: { zh: '订单正被同时修改，请重试', en: 'The order changed concurrently; retry' },
  ORDER_AUDIT_NOT_PASSED: { zh: '审单规则未放行', en: 'The audit rules did not release the order' },
  ORDER_ALREADY_ON_HOLD: { zh: '订单已处于挂起状态', en: 'The order is already on hold' },
  ORDER_IN_EXCEPTION: { zh: '订单有未处理的异常', en: 'The order has an open exception' },
  ORDER_ALREADY_IN_EXCEPTION: { zh: '订单已处于异常状态', en: 'The order is already in exception' },
  ORDER_NOT_IN_EXCEPTION: { zh: '订单没有待处理的异常', en: 'The order has no open exception' },
  ORDER_REFUND_PENDING: { zh: '已有退款在处理中', en: 'A refund is already pending' },
  ORDER_APPROVAL_PENDING: { zh: '订单审批中', en: 'The order is awaiting approval' },
  ORDER_STOCK_NOT_RESERVED: { zh: '库存尚未锁定', en: 'Stock is not reserved yet' },
  ORDER_TOTAL_MISMATCH: { zh: '订单金额与服务端计算不一致', en: 'The total differs from the server total' },
  PORTAL_CODE_INVALID: { zh: '验证码错误或已过期，请重新获取', en: 'The code is wrong or expired: ask for a new one' },
  CHANGE_FROZEN: { zh: '订单已打包，不能再修改（需总经理特批）', en: 'The order is packed: changes need a manager override' },
  CHANGE_NOT_ALLOWED: { zh: '订单已发货或已关闭，不能修改', en: 'The order has shipped or is closed: it cannot change' },
  CHANGE_EMPTY: { zh: '没有任何修改', en: 'Nothing was changed' },
  ORDER_INVALID: { zh: '订单内容无效', en: 'The order is invalid' },
  APPROVAL_NOT_AN_APPROVER: { zh: '您不是这一步的审批人', en: 'You are not an approver of this step' },
  APPROVAL_NOT_CURRENT_STEP: { zh: '不是当前审批步骤', en: 'Not the current step' },
  APPROVAL_ALREADY_VOTED: { zh: '您已审批过这一步', en: 'You already decided this step' },
  APPROVAL_NOT_PENDING: { zh: '审批已结束', en: 'The approval is no longer pending' },
  APPROVAL_NOT_FOUND: { zh: '审批不存在', en: 'No such approval' },
  // --- Approval refusals (services/approval: approval.errors.ts, change requests) ---
  APPROVAL_NOT_RETURNED: { zh: '该审批没有被退回修改，不能重新提交', en: 'The approval was not returned for changes: there is nothing to resubmit' },
  APPROVAL_INVALID: { zh: '审批内容有误（{field}）', en: 'Invalid approval input ({field})' },
  APPROVAL_ALREADY_REQUESTED: { zh: '该审批已经发起过', en: 'This approval was already requested' },
  APPROVAL_UNKNOWN_CHAIN: { zh: '审批流 {chain} 不存在', en: 'No approval chain {chain}' },
  APPROVAL_ACTOR_REQUIRED: { zh: '无法识别审批人身份，请重新登录', en: 'Who is deciding is unknown: log in again' },
  CHANGE_OVERRIDE_NOT_ALLOWED: { zh: '只有总经理可以特批已打包订单的修改', en: 'Only a general manager may override the freeze on a packed order' },
  CHANGE_NO_STOCK: { zh: '库存不足，变更被整体拒绝', en: 'Not enough stock: the change was refused whole' },
  CHANGE_REFUSED_BY_ORDER: { zh: '订单已打包，变更未能生效', en: 'The order was packed meanwhile: the change was not applied' },
  CHANGE_REQUESTER_NOT_ALLOWED: { zh: '只有客服、顾客或总经理可以发起订单变更', en: 'Changes are raised by customer service, the customer or a general manager' },
  CHANGE_ORDER_UNKNOWN: { zh: '审批服务还没有收到这个订单，请稍后重试', en: 'Approval has not seen this order yet; retry shortly' },
  // --- end approval refusals ---
  SCAN_WRONG_SKU: { zh: '扫错商品：{sku} 不在此包裹中（应为 {expected}）', en: 'Wrong item: {sku} is not in this parcel (expected {expected})' },
  SCAN_QUANTITY_EXCEEDED: { zh: '扫描数量超过应装数量', en: 'More scanned than the parcel needs' },
  SCAN_INVALID_QUANTITY: { zh: '扫描数量无效', en: 'Invalid scan quantity' },
  PACK_INCOMPLETE: { zh: '还有商品未扫描，不能装箱', en: 'Not every item is scanned yet' },
  SHIPMENT_STOPPED: { zh: '包裹已被拦截停止', en: 'The parcel was stopped' },
  FULFILLMENT_ON_HOLD: { zh: '订单已挂起或有未处理的异常，暂停拣货、打包和发货（{reason}）', en: 'The order is on hold or in exception: no picking, packing or shipping until it is cleared ({reason})' },
  INTERCEPT_PENDING: { zh: '包裹待拦截：请先确认拦截或报告已发出', en: 'The parcel must be intercepted first: confirm the intercept or report it gone' },
  PRODUCTION_PENDING: { zh: '定制商品仍在生产中，完工后才能拣货', en: 'Made-to-order items are still in production: pick once completed' },
  SHIPMENT_NOT_FOUND: { zh: '包裹不存在', en: 'No such parcel' },
  SHIPMENT_ILLEGAL_TRANSITION: { zh: '包裹当前状态不允许此操作', en: 'The parcel cannot do this now' },
  // channel-gateway: imports, profiles and the quarantine (its DomainError codes, the upload's 413).
  QUARANTINE_EDIT_INVALID: { zh: '修正内容无效', en: 'The fix is invalid' },
  QUARANTINE_RESOLVED: { zh: '该行已处理', en: 'That row is already resolved' },
  QUARANTINE_NOT_FOUND: { zh: '隔离记录不存在（可能已被他人处理）', en: 'No such quarantine entry (someone may have handled it)' },
  IMPORT_COLUMNS_MISSING: { zh: '文件缺少必要的列（请确认文件与所选模板一致）', en: 'The file lacks required columns (check the file matches the profile)' },
  IMPORT_ITEMS_FILE_REQUIRED: { zh: '模板 {profile} 需要同时上传宝贝报表（商品明细文件）', en: 'Profile {profile} needs the items file (宝贝报表) as well' },
  IMPORT_FILE_EMPTY: { zh: '文件为空', en: 'The file is empty' },
  IMPORT_FILE_UNREADABLE: { zh: '无法读取文件（旧版 .xls 请在 Excel/WPS 中另存为 .xlsx 或 CSV）', en: 'The file cannot be read (save a legacy .xls as .xlsx or CSV in Excel/WPS)' },
  IMPORT_RUN_NOT_FOUND: { zh: '导入记录不存在', en: 'No such import run' },
  PAYLOAD_TOO_LARGE: { zh: '文件过大，请拆分后分批上传', en: 'The file is too large: split it and upload the parts' },
  PROFILE_NOT_FOUND: { zh: '导入模板 {profile} 不存在', en: 'No import profile {profile}' },
  PROFILE_REQUIRED: { zh: '该渠道没有默认模板，请选择模板', en: 'This channel has no default layout: pick a profile' },
  PROFILE_INVALID: { zh: '导入模板文件有误，请联系管理员', en: 'An import profile file is invalid; tell an administrator' },
  // channel-gateway's connectors, pushes and gift rules (operations screens to come).
  CONNECTOR_NOT_AVAILABLE: { zh: '该平台的接口对接尚未开通', en: 'No API connector for this platform' },
  SHOP_NOT_CONFIGURED: { zh: '店铺未配置接口对接', en: 'The shop has no API connection configured' },
  PUSH_BODY_INVALID: { zh: '平台推送的内容无法读取', en: 'The platform push cannot be read' },
  PUSH_SIGNATURE_INVALID: { zh: '平台推送签名校验失败', en: 'The platform push signature does not verify' },
  GIFT_RULES_INVALID: { zh: '赠品规则文件有误，请联系管理员', en: 'The gift rule file is invalid; tell an administrator' },
  // A re-export the order flow did not apply (import report refusedChanges).
  PLATFORM_STATUS_REOPENED: { zh: '平台显示订单重新打开，但系统中已取消或已退款，未同步，请人工处理', en: 'The platform reopened an order Flowline has cancelled or refunded: not applied, a person decides' },
  // Why rows were refused (import report, quarantine). The rows carry channel-gateway's own zh / en
  // text with the cell; these name the code where only the code is at hand.
  MISSING_FIELD: { zh: '必填列为空', en: 'A required cell is empty' },
  BAD_AMOUNT: { zh: '金额或重量无效', en: 'Not a valid amount or weight' },
  BAD_QUANTITY: { zh: '数量无效', en: 'Not a valid quantity' },
  BAD_SKU: { zh: '商家编码不能作为 SKU', en: 'The seller code cannot be a SKU' },
  BAD_TIME: { zh: '时间无效', en: 'Not a valid time' },
  UNKNOWN_STATUS: { zh: '未知的订单状态', en: 'Unknown order status' },
  NO_LINES: { zh: '没有商品明细', en: 'No item lines' },
  TOTAL_MISMATCH: { zh: '金额或件数对不上', en: 'Amounts or item counts do not add up' },
  ADDRESS_UNPARSED: { zh: '无法识别地址中的省市区', en: 'Province / city / district not found in the address' },
  CONFLICTING_ROWS: { zh: '同一订单的多行内容不一致', en: 'Rows of one order disagree' },
  MANGLED_ID: { zh: '订单号被 Excel 改成了科学计数法或补零，已无法还原', en: 'Excel mangled the id (scientific notation or zero-filled)' },
  LINE_STATES_DIFFER: { zh: '同一订单的商品状态不同（如一件已退款、一件待发货），请人工处理', en: 'Lines of one order are in different states (one refunded, one to ship): a person decides' },
  ORDER_REFUSED: { zh: '订单系统拒绝了该订单', en: 'Order intake refused the order' },
  BAD_PAYLOAD: { zh: '平台接口数据无法读取', en: 'The platform order data cannot be read' },
  STOCK_SHORTAGE: { zh: '库存不足，无法锁定全部商品', en: 'Inventory could not reserve every line' },
  IDEMPOTENCY_KEY_REUSED: { zh: '重复提交的请求内容不一致', en: 'The same request key was used with another body' },
  VALIDATION_FAILED: { zh: '输入有误：{fields}', en: 'Invalid input: {fields}' },
  validation_failed: { zh: '输入有误：{fields}', en: 'Invalid input: {fields}' },
  SERVICE_UNAVAILABLE: { zh: '服务暂不可用，请稍后重试', en: 'The service is unavailable; retry shortly' },
  // 503 from any service while its database or broker is away (libs/platform UnexpectedErrorFilter).
  DEPENDENCY_UNAVAILABLE: { zh: '系统暂时不可用，请几秒后重试（重试不会重复提交）', en: 'The system is briefly unavailable; retry in a few seconds (a retry never submits twice)' },
  INTERNAL: { zh: '系统内部错误，请联系管理员', en: 'Internal error; tell an administrator' },
  TOO_MANY_REQUESTS: { zh: '操作过于频繁，请稍后再试', en: 'Too many requests; try again shortly' },
  PAYMENT_AMOUNT_MISMATCH: { zh: '付款金额与应付金额不一致', en: 'The payment differs from the amount due' },
  PAYMENT_CURRENCY_MISMATCH: { zh: '付款币种与订单不一致', en: 'The payment currency differs from the order' },
  FULFILLMENT_NOT_STARTED: { zh: '该订单尚未进入发货流程（没有包裹可收退货）', en: 'Fulfilment of this order has not started (no parcel to receive a return for)' },
  REFUND_AMOUNT_INVALID: { zh: '退款金额无效：可退 ¥{refundableYuan}（发货前须全额退款，发货后可退 ¥0.01 至 ¥{refundableYuan}）', en: 'The refund amount is invalid: ¥{refundableYuan} refundable (before shipment the full amount; after shipment ¥0.01 up to ¥{refundableYuan})' },
  REFUND_AMOUNT_MISMATCH: { zh: '退款金额与申请不一致', en: 'The refund differs from the amount requested' },
  REFUND_NOT_REQUESTED: { zh: '没有待确认的退款申请', en: 'No refund was requested' },
  // Inventory: receipts, adjustments, stock screens.
  NEGATIVE_ON_HAND: { zh: '调整后在库数量将小于 0（当前 {onHand}，调整 {delta}）', en: 'The adjustment would leave less than 0 on hand (now {onHand}, change {delta})' },
  ADJUSTMENT_BELOW_RESERVED: { zh: '调整后在库数量将少于已锁定给订单的 {reserved} 件：请先释放或取消这些订单', en: 'The adjustment would leave fewer units than the {reserved} promised to orders: release those orders first' },
  ON_HAND_LIMIT: { zh: '在库数量超出系统上限', en: 'On-hand would exceed the system limit' },
  INVALID_QUANTITY: { zh: '数量必须是正整数', en: 'The quantity must be a positive whole number' },
  INVALID_REASON: { zh: '请填写调整原因', en: 'Give a reason for the adjustment' },
  INVALID_SKU: { zh: 'SKU 格式不正确', en: 'The SKU is not valid' },
  INVALID_WAREHOUSE: { zh: '仓库编号格式不正确', en: 'The warehouse id is not valid' },
  SKU_NOT_FOUND: { zh: 'SKU {sku} 尚未登记', en: 'SKU {sku} is not registered' },
  WAREHOUSE_NOT_FOUND: { zh: '仓库 {warehouseId} 不存在', en: 'Warehouse {warehouseId} does not exist' },
  RESERVATION_NOT_FOUND: { zh: '该订单没有库存锁定记录', en: 'The order has no stock reservation' },
  DUPLICATE_LINE: { zh: '同一订单行出现了两次', en: 'An order line appears twice' },
  INSUFFICIENT_STOCK: { zh: '库存不足', en: 'Not enough stock' },
  // Fulfillment: carriers, merged parcels, returns.
  CARRIER_NOT_CONFIGURED: { zh: '快递公司 {carrier} 未配置', en: 'Carrier {carrier} is not configured' },
  CARRIER_REFUSED: { zh: '快递公司 {carrier} 拒绝了请求，请稍后重试或换一家快递', en: 'Carrier {carrier} refused: retry later or choose another carrier' },
  CARRIER_DESIGNATED: { zh: '平台已指定快递公司，不能更换', en: 'The platform designated the carrier: it cannot be changed' },
  CARRIER_RECIPIENT_MISSING: { zh: '收件人信息不完整，无法获取电子面单', en: 'The recipient is incomplete: no e-waybill can be issued' },
  MERGE_WINDOW_OPEN: { zh: '合单包裹仍在等待同一买家的订单（合单窗口未结束），可先「不等合单」释放', en: 'The merged parcel still waits for orders of the same buyer: release it to pick now' },
  MERGE_PARCEL_NOT_FOUND: { zh: '该包裹不在任何合单中', en: 'The parcel is in no merged parcel' },
  MERGE_PARCEL_PACKED: { zh: '合单包裹已装箱', en: 'The merged parcel is already packed' },
  SHIPMENT_NOT_PACKED: { zh: '包裹尚未装箱，还没有面单', en: 'The parcel is not packed yet: no waybill' },
  ORDER_NOT_FROZEN: { zh: '订单未冻结，无需特批', en: 'The order is not frozen: nothing to override' },
  RETURN_NOT_ALLOWED: { zh: '只有已签收或被拒收的包裹才能退货', en: 'Only a delivered or refused parcel can be returned' },
  RETURN_LINE_INVALID: { zh: '退货行无效：至少一行，数量为正整数且不超过可退数量', en: 'Invalid return lines: at least one, each a positive quantity within what can be returned' },
  RETURN_NOT_FOUND: { zh: '退货单不存在', en: 'No such return' },
  RETURN_QUANTITY_EXCEEDED: { zh: '收到的数量超过退货单的数量', en: 'More received than the return expects' },
  // Orders.
  ORDER_ALREADY_EXISTS: { zh: '该平台订单已存在', en: 'The order already exists' },
  ORDER_BALANCE_NOT_DUE: { zh: '该订单没有待付的款项', en: 'Nothing is due on this order' },
  ORDER_NOT_COD: { zh: '该订单不是货到付款', en: 'The order is not cash on delivery' },
  ORDER_PRESALE_NOT_SETTLED: { zh: '预售订单尚未付尾款', en: 'The presale balance is not paid yet' },
  INVALID_CURSOR: { zh: '翻页已失效，请重新查询', en: 'The page cursor expired: search again' },
  // Rules documents (flow, chains, notifications).
  RULES_VERSION_CONFLICT: { zh: '规则已被他人修改，请刷新后重试', en: 'Someone else changed the rules: reload and retry' },
  RULES_VERSION_NOT_FOUND: { zh: '规则版本不存在', en: 'No such rules version' },
  RULES_INVALID: { zh: '规则内容无效', en: 'The rules are invalid' },
  // Analytics.
  INVALID_DATE: { zh: '日期格式不正确', en: 'The date is not valid' },
  INVALID_RANGE: { zh: '日期范围不正确（开始须早于结束）', en: 'The date range is not valid (from before to)' },
  SETTLEMENT_COLUMNS_MISSING: { zh: '结算文件缺少必要的列', en: 'The settlement file lacks required columns' },
  SETTLEMENT_FILE_EMPTY: { zh: '结算文件为空', en: 'The settlement file is empty' },
  SETTLEMENT_FILE_UNREADABLE: { zh: '无法读取结算文件', en: 'The settlement file cannot be read' },
  SETTLEMENT_ROWS_INVALID: { zh: '结算文件中有无效的行', en: 'The settlement file has invalid rows' },
  // Notifications.
  CONTACT_NOT_FOUND: { zh: '没有该客户的联系方式', en: 'No contact for that customer' },
  STAFF_NOT_FOUND: { zh: '员工不存在', en: 'No such staff member' },
  CHANNEL_NOT_AVAILABLE: { zh: '该通知渠道不可用', en: 'That notification channel is not available' },
  // Exception codes the order carries (order-intake FlagException; tracking shows them on the board).
  AUDIT_BLOCKED: { zh: '审单规则拦截', en: 'Blocked by the audit rules' },
  CARRIER_EXCEPTION: { zh: '物流异常', en: 'Carrier problem' },
  RESERVATION_TIMEOUT: { zh: '锁库存超时', en: 'Stock reservation timed out' },
  SHIPPED_AFTER_CANCEL: { zh: '取消后仍已发货', en: 'Shipped after the cancellation' },
};

/** The catalogue's text of a refusal code, if it has one (screens use `reason()`; this is for checks). */
export function reasonEntry(code: string): Entry | undefined {
  return REASONS[code];
}

/** Role names as people read them (the auth contract's roles). */
const ROLE_NAMES: Record<string, { zh: string; en: string }> = {
  customer_service: { zh: '客服', en: 'customer service' },
  warehouse: { zh: '仓库', en: 'warehouse' },
  finance: { zh: '财务', en: 'finance' },
  sales: { zh: '销售', en: 'sales' },
  designer: { zh: '设计', en: 'designer' },
  cost_accountant: { zh: '成本核算', en: 'cost accountant' },
  general_manager: { zh: '总经理', en: 'general manager' },
  admin: { zh: '管理员', en: 'admin' },
  integration: { zh: '系统集成', en: 'integration' },
  customer: { zh: '顾客', en: 'customer' },
};

/** A role's name as people read it; a role this table does not know shows as it is. */
export function roleName(role: string): { zh: string; en: string } {
  return ROLE_NAMES[role] ?? { zh: role, en: role };
}

/** The roles that decide approval steps (the approval chains' and change requests' steps). */
export const APPROVER_ROLES = ['sales', 'designer', 'cost_accountant', 'general_manager', 'customer_service', 'warehouse', 'finance'] as const;

export interface Problem {
  status: number;
  code: string;
  message: string;
  params?: Record<string, unknown>;
  fields?: string[];
}

interface I18n {
  lang: Lang;
  setLang(l: Lang): void;
  t(key: UiKey): string;
  pick(e: Entry | { zh: string; en: string } | null | undefined): string;
  reason(p: Problem | { code: string | null; message?: string | null; params?: Record<string, unknown> }): string;
  money(fen: number, currency?: string): string;
  time(iso: string | null | undefined): string;
}

const Ctx = createContext<I18n | null>(null);

function fill(text: string, params: Record<string, unknown>): string {
  return text.replace(/\{(\w+)\}/g, (_, k: string) => String(params[k] ?? ''));
}

export function I18nProvider({ children }: { children: ReactNode }) {
  const [lang, setLangState] = useState<Lang>(() => (localStorage.getItem('flowline.lang') === 'en' ? 'en' : 'zh'));
  const value = useMemo<I18n>(() => {
    const locale = lang === 'zh' ? 'zh-CN' : 'en-GB';
    const timeFmt = new Intl.DateTimeFormat(locale, { dateStyle: 'short', timeStyle: 'short', timeZone: 'Asia/Shanghai' });
    return {
      lang,
      setLang: (l) => {
        localStorage.setItem('flowline.lang', l);
        document.documentElement.lang = l === 'zh' ? 'zh-CN' : 'en';
        setLangState(l);
      },
      t: (key) => UI[key][lang],
      pick: (e) => (e ? e[lang] : ''),
      reason: (p) => {
        const code = p.code ?? '';
        const entry = REASONS[code];
        const params: Record<string, unknown> = { ...(p.params ?? {}) };
        if ('fields' in p && p.fields) params.fields = p.fields.join(', ');
        // Amounts in refusals are fen: `{<name>Yuan}` shows them as people read them.
        for (const k of ['refundable', 'requested', 'amount', 'expected']) if (typeof params[k] === 'number') params[`${k}Yuan`] = ((params[k] as number) / 100).toFixed(2);
        if (entry) return fill(entry[lang], params);
        return p.message ? (code ? `${p.message} (${code})` : p.message) : code;
      },
      money: (fen, currency = 'CNY') => new Intl.NumberFormat(locale, { style: 'currency', currency }).format(fen / 100),
      time: (iso) => (iso ? timeFmt.format(new Date(iso)) : '—'),
    };
  }, [lang]);
  return <Ctx.Provider value={value}>{children}</Ctx.Provider>;
}

export function useI18n(): I18n {
  const v = useContext(Ctx);
  if (!v) throw new Error('useI18n outside I18nProvider');
  return v;
}
