/**
 * The live tracking board (订单实时看板): one static page, no build step, no dependencies. It loads
 * the open orders from the REST API, then follows `/api/tracking/stream` (SSE); cards are coloured by
 * SLA status and move between stage columns as events arrive. Texts in Chinese for the floor.
 * Every value from the API is inserted with textContent (never as HTML).
 */
export const BOARD_PAGE = `<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>订单实时看板 · Flowline</title>
<style>
  :root { --green:#1f9d55; --yellow:#d69e2e; --red:#e3342f; --grey:#8795a1; --bg:#f5f7fa; }
  * { box-sizing: border-box; }
  body { margin:0; font-family: "PingFang SC","Microsoft YaHei","Noto Sans CJK SC",sans-serif; background:var(--bg); color:#22292f; }
  header { display:flex; align-items:center; gap:24px; padding:12px 20px; background:#fff; border-bottom:1px solid #dae1e7; flex-wrap:wrap; }
  h1 { font-size:20px; margin:0; }
  .stat { display:flex; flex-direction:column; align-items:center; min-width:64px; }
  .stat b { font-size:22px; }
  .stat span { font-size:12px; color:#606f7b; }
  .dot { display:inline-block; width:10px; height:10px; border-radius:50%; margin-right:4px; vertical-align:middle; }
  .g { background:var(--green); } .y { background:var(--yellow); } .r { background:var(--red); } .n { background:var(--grey); }
  #conn { margin-left:auto; font-size:13px; color:#606f7b; }
  #kpi { font-size:13px; color:#3d4852; }
  main { display:grid; grid-template-columns: repeat(7, minmax(170px, 1fr)); gap:10px; padding:12px; overflow-x:auto; }
  section { background:#fff; border-radius:6px; border:1px solid #dae1e7; min-height:200px; display:flex; flex-direction:column; }
  section h2 { font-size:15px; margin:0; padding:8px 10px; border-bottom:1px solid #eef1f5; display:flex; justify-content:space-between; }
  .cards { padding:6px; display:flex; flex-direction:column; gap:6px; overflow-y:auto; max-height:calc(100vh - 150px); }
  .card { border-left:6px solid var(--grey); background:#fbfcfd; border-radius:4px; padding:6px 8px; font-size:12px; line-height:1.5; }
  .card.green { border-color:var(--green); } .card.yellow { border-color:var(--yellow); background:#fffbea; } .card.red { border-color:var(--red); background:#fcebea; }
  .card .id { font-family:monospace; font-size:12px; font-weight:bold; }
  .card .tags span { display:inline-block; padding:0 4px; margin-right:4px; border-radius:3px; font-size:11px; color:#fff; }
  .t-hold { background:#6c757d; } .t-exc { background:var(--red); } .t-stuck { background:#000; }
  .flash { animation: flash 1.2s ease-out; }
  @keyframes flash { from { box-shadow:0 0 0 3px #3490dc; } to { box-shadow:none; } }
</style>
</head>
<body>
<header>
  <h1>订单实时看板</h1>
  <div class="stat"><b id="c-green">0</b><span><i class="dot g"></i>正常</span></div>
  <div class="stat"><b id="c-yellow">0</b><span><i class="dot y"></i>预警</span></div>
  <div class="stat"><b id="c-red">0</b><span><i class="dot r"></i>超时</span></div>
  <div class="stat"><b id="c-stuck">0</b><span>卡单（超24小时）</span></div>
  <div class="stat"><b id="c-exc">0</b><span>异常</span></div>
  <div class="stat"><b id="c-hold">0</b><span>挂起</span></div>
  <div id="kpi"></div>
  <div id="conn">连接中…</div>
</header>
<main id="board"></main>
<script>
(function () {
  var STAGES = [
    ['placed', '下单'], ['paid', '支付确认'], ['stock_reserved', '库存锁定'], ['awaiting_approval', '审批中'],
    ['ready_to_ship', '待发货'], ['packed', '打包出库'], ['shipped', '已发货']
  ];
  var CHANNELS = { taobao: '淘宝', tmall: '天猫', jd: '京东', pinduoduo: '拼多多', douyin: '抖店', web: '官网', offline: '门店', api: '接口' };
  var orders = new Map();
  var board = document.getElementById('board');
  var columns = {};
  STAGES.forEach(function (s) {
    var sec = document.createElement('section');
    var h = document.createElement('h2');
    var title = document.createElement('span'); title.textContent = s[1];
    var count = document.createElement('span'); count.textContent = '0';
    h.appendChild(title); h.appendChild(count);
    var cards = document.createElement('div'); cards.className = 'cards';
    sec.appendChild(h); sec.appendChild(cards); board.appendChild(sec);
    columns[s[0]] = { cards: cards, count: count };
  });

  function since(iso) {
    var ms = Date.now() - Date.parse(iso);
    if (ms < 0) ms = 0;
    var m = Math.floor(ms / 60000), h = Math.floor(m / 60), d = Math.floor(h / 24);
    if (d > 0) return d + '天' + (h % 24) + '小时';
    if (h > 0) return h + '小时' + (m % 60) + '分';
    return m + '分钟';
  }
  function text(el, cls, value) { var e = document.createElement(el); if (cls) e.className = cls; e.textContent = value; return e; }

  function render(o, flash) {
    var old = document.getElementById('o-' + o.orderId);
    if (old) old.remove();
    var col = columns[o.stage];
    if (!col) { orders.delete(o.orderId); return; }
    var card = document.createElement('div');
    card.id = 'o-' + o.orderId;
    card.className = 'card ' + (o.sla.colour === 'none' ? '' : o.sla.colour) + (flash ? ' flash' : '');
    card.appendChild(text('div', 'id', o.orderId.length > 14 ? '…' + o.orderId.slice(-12) : o.orderId));
    card.appendChild(text('div', '', (CHANNELS[o.channel] || o.channel) + ' · ' + (o.customerMasked || '') + ' · ¥' + (o.grandTotal / 100).toFixed(2)));
    var t = text('div', 'since', '本阶段 ' + since(o.stageEnteredAt));
    t.setAttribute('data-since', o.stageEnteredAt);
    card.appendChild(t);
    if (o.sla.dueAt) card.appendChild(text('div', '', '时限 ' + new Date(o.sla.dueAt).toLocaleString('zh-CN', { hour12: false })));
    var tags = document.createElement('div'); tags.className = 'tags';
    if (o.flags.indexOf('on_hold') >= 0) tags.appendChild(text('span', 't-hold', '挂起'));
    if (o.flags.indexOf('exception') >= 0) tags.appendChild(text('span', 't-exc', '异常'));
    if (o.stuck) tags.appendChild(text('span', 't-stuck', '卡单'));
    card.appendChild(tags);
    card.title = (o.holdReason || o.exceptionReason || '');
    // Most urgent first: red, yellow, green, then the longest in the stage.
    var rank = { red: 0, yellow: 1, green: 2, none: 3 };
    var inserted = false;
    for (var i = 0; i < col.cards.children.length; i++) {
      var other = orders.get(col.cards.children[i].id.slice(2));
      if (!other) continue;
      if (rank[o.sla.colour] < rank[other.sla.colour] || (rank[o.sla.colour] === rank[other.sla.colour] && o.stageEnteredAt < other.stageEnteredAt)) {
        col.cards.insertBefore(card, col.cards.children[i]); inserted = true; break;
      }
    }
    if (!inserted) col.cards.appendChild(card);
  }

  function counts() {
    var c = { green: 0, yellow: 0, red: 0, stuck: 0, exc: 0, hold: 0 };
    var per = {};
    orders.forEach(function (o) {
      if (!columns[o.stage]) return;
      per[o.stage] = (per[o.stage] || 0) + 1;
      if (c[o.sla.colour] !== undefined) c[o.sla.colour]++;
      if (o.stuck) c.stuck++;
      if (o.flags.indexOf('exception') >= 0) c.exc++;
      if (o.flags.indexOf('on_hold') >= 0) c.hold++;
    });
    ['green', 'yellow', 'red', 'stuck', 'exc', 'hold'].forEach(function (k) { document.getElementById('c-' + k).textContent = String(c[k]); });
    STAGES.forEach(function (s) { columns[s[0]].count.textContent = String(per[s[0]] || 0); });
  }

  function upsert(o, flash) {
    if (!columns[o.stage]) { orders.delete(o.orderId); var old = document.getElementById('o-' + o.orderId); if (old) old.remove(); return; }
    orders.set(o.orderId, o);
    render(o, flash);
  }

  function load() {
    var open = STAGES.map(function (s) { return s[0]; }).join(',');
    orders.clear();
    Object.keys(columns).forEach(function (k) { columns[k].cards.textContent = ''; });
    return fetch('api/tracking/orders?limit=500&stage=' + open).then(function (r) { return r.json(); }).then(function (page) {
      page.items.forEach(function (o) { upsert(o, false); });
      counts();
    });
  }

  function kpis() {
    var from = new Date(); from.setHours(0, 0, 0, 0);
    fetch('api/tracking/kpis?from=' + encodeURIComponent(from.toISOString())).then(function (r) { return r.json(); }).then(function (k) {
      var pct = function (v) { return v === null ? '—' : (v * 100).toFixed(1) + '%'; };
      var p50 = k.paidToShipped.p50Ms === null ? '—' : since(new Date(Date.now() - k.paidToShipped.p50Ms).toISOString());
      document.getElementById('kpi').textContent = '今日：下单 ' + k.orders + ' · 异常率 ' + pct(k.exceptionRate) + ' · 人工介入率 ' + pct(k.manualTouchRate) + ' · 支付到发货中位 ' + p50;
    }).catch(function () {});
  }

  function connect() {
    var es = new EventSource('api/tracking/stream');
    var conn = document.getElementById('conn');
    es.onopen = function () { conn.textContent = '● 实时连接'; };
    es.onerror = function () { conn.textContent = '○ 重新连接中…'; };
    es.addEventListener('order', function (e) { var c = JSON.parse(e.data); upsert(c.order, true); counts(); });
    es.addEventListener('rebuilt', function () { load(); });
  }

  setInterval(function () {
    var list = document.querySelectorAll('[data-since]');
    for (var i = 0; i < list.length; i++) list[i].textContent = '本阶段 ' + since(list[i].getAttribute('data-since'));
  }, 30000);
  setInterval(kpis, 60000);
  load().then(connect);
  kpis();
})();
</script>
</body>
</html>
`;
