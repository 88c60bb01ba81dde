/**
 * The live tracking board (订单实时看板): one static page, no build step, no dependencies, no CDN.
 * It subscribes to `/api/tracking/stream` (SSE) first, then loads every open order from the REST API
 * (following the cursor, up to 40 pages), so no change is lost between the two; on every (re)connect
 * it reloads. The chips and column counts are every open order's (api/tracking/counts), not the
 * cards loaded.
 * Cards sit in stage columns, coloured by SLA status (green / yellow / red, with the word too),
 * most urgent first; stuck orders are listed in a strip under the header; hold and exception
 * reasons are on the card (a wall display has no mouse). Texts in Chinese for the floor.
 * Every value from the API is inserted with textContent (never as HTML).
 */
export const BOARD_PAGE = `<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>订单实时看板 · Flowline</title>
<style>
  :root { --green:#16a34a; --yellow:#d97706; --red:#dc2626; --grey:#94a3b8; --bg:#eef2f6; --ink:#1e293b; --muted:#64748b; }
  * { box-sizing: border-box; }
  body { margin:0; font-family: "PingFang SC","Microsoft YaHei","Noto Sans CJK SC","Source Han Sans SC","WenQuanYi Micro Hei",sans-serif; background:var(--bg); color:var(--ink); }
  header { display:flex; align-items:center; gap:14px; padding:10px 16px; background:#fff; border-bottom:1px solid #d5dce4; flex-wrap:wrap; }
  h1 { font-size:22px; margin:0 8px 0 0; letter-spacing:1px; }
  .chips { display:flex; gap:8px; flex-wrap:wrap; }
  .chip { display:flex; flex-direction:column; align-items:center; justify-content:center; min-width:76px; padding:4px 10px; border-radius:8px; background:#f1f5f9; border:1px solid #e2e8f0; }
  .chip b { font-size:24px; line-height:1.15; font-variant-numeric: tabular-nums; }
  .chip span { font-size:12px; color:var(--muted); }
  .chip.green { background:#f0fdf4; border-color:#bbf7d0; } .chip.green b { color:var(--green); }
  .chip.yellow { background:#fffbeb; border-color:#fde68a; } .chip.yellow b { color:var(--yellow); }
  .chip.red { background:#fef2f2; border-color:#fecaca; } .chip.red b { color:var(--red); }
  .chip.stuck { background:#1e293b; border-color:#1e293b; } .chip.stuck b, .chip.stuck span { color:#fff; }
  #kpi { display:flex; gap:4px 14px; flex-wrap:wrap; font-size:13px; color:#334155; flex:1 1 240px; min-width:0; }
  #kpi span b { font-variant-numeric: tabular-nums; }
  #status { margin-left:auto; text-align:right; font-size:13px; color:var(--muted); line-height:1.5; white-space:nowrap; }
  #conn::before { content:''; display:inline-block; width:9px; height:9px; border-radius:50%; background:var(--grey); margin-right:5px; vertical-align:middle; }
  #conn[data-state="live"] { color:var(--green); } #conn[data-state="live"]::before { background:var(--green); }
  #conn[data-state="down"] { color:var(--red); font-weight:bold; } #conn[data-state="down"]::before { background:var(--red); }
  #stuckbar { display:none; align-items:center; gap:8px; flex-wrap:wrap; margin:10px 12px 0; padding:8px 12px; background:#fff; border:2px solid var(--ink); border-radius:8px; font-size:13px; }
  #stuckbar.on { display:flex; }
  #stuckbar > b { background:var(--ink); color:#fff; padding:2px 8px; border-radius:4px; }
  #stuckbar .s { padding:2px 8px; border-radius:4px; background:#fef2f2; border:1px solid #fecaca; }
  #stuckbar .s i { font-style:normal; font-family:ui-monospace,monospace; font-weight:bold; }
  main { display:grid; grid-template-columns: repeat(7, minmax(190px, 1fr)); gap:10px; padding:10px 12px 12px; overflow-x:auto; }
  section { background:#fff; border-radius:8px; border:1px solid #d5dce4; min-height:240px; display:flex; flex-direction:column; }
  section h2 { font-size:16px; margin:0; padding:6px 10px; border-bottom:1px solid #e2e8f0; display:grid; grid-template-columns:1fr auto; align-items:center; column-gap:8px; }
  section h2 .count { grid-row:1 / span 2; grid-column:2; font-size:24px; font-variant-numeric: tabular-nums; }
  section h2 .mini { grid-column:1; font-size:12px; font-weight:normal; display:flex; gap:8px; min-height:18px; }
  .mini .r { color:var(--red); font-weight:bold; } .mini .y { color:var(--yellow); font-weight:bold; }
  .cards { padding:6px; display:flex; flex-direction:column; gap:6px; overflow-y:auto; max-height:calc(100vh - 190px); }
  .empty { color:#94a3b8; font-size:13px; text-align:center; padding:18px 0; }
  .more { color:var(--muted); font-size:12px; text-align:center; padding:4px 0; }
  .card { border:1px solid #e2e8f0; border-left:7px solid var(--grey); background:#fff; border-radius:6px; padding:6px 8px; font-size:13px; line-height:1.5; }
  .card[data-sla="green"] { border-left-color:var(--green); }
  .card[data-sla="yellow"] { background:#fffbeb; border-color:#fde68a; border-left-color:var(--yellow); }
  .card[data-sla="red"] { background:#fef2f2; border-color:#fecaca; border-left-color:var(--red); }
  .card .top { display:flex; align-items:center; gap:6px; }
  .card .id { font-family:ui-monospace,"DejaVu Sans Mono",monospace; font-weight:bold; font-size:13px; overflow:hidden; text-overflow:ellipsis; white-space:nowrap; }
  .badge { margin-left:auto; flex:none; font-size:12px; padding:0 6px; border-radius:10px; color:#fff; }
  .badge.green { background:var(--green); } .badge.yellow { background:var(--yellow); } .badge.red { background:var(--red); }
  .card .who { color:#334155; }
  .card .time { display:flex; flex-wrap:wrap; justify-content:space-between; gap:0 8px; color:var(--muted); font-variant-numeric: tabular-nums; }
  .card .time span { white-space:nowrap; }
  .card .due.late { color:var(--red); font-weight:bold; } .card .due.soon { color:var(--yellow); font-weight:bold; }
  .card .tags:empty, .card .why:empty { display:none; }
  .card .tags span { display:inline-block; padding:0 6px; margin:2px 4px 0 0; border-radius:4px; font-size:12px; color:#fff; }
  .card .why { color:#b91c1c; font-size:12px; }
  .card .ship { color:#1e40af; font-size:12px; }
  .t-hold { background:#475569; } .t-exc { background:var(--red); } .t-stuck { background:var(--ink); } .t-prio { background:#7c3aed; }
  .flash { animation: flash 1.5s ease-out; }
  /* Laptops (1366 px): seven columns still fit without scrolling sideways. */
  @media (max-width: 1500px) {
    header { gap:10px; padding:8px 12px; } h1 { font-size:19px; }
    .chip { min-width:58px; padding:3px 8px; } .chip b { font-size:20px; }
    main { grid-template-columns: repeat(7, minmax(150px, 1fr)); gap:8px; padding:8px; }
    section h2 { font-size:15px; padding:6px 8px; }
    .card { font-size:12px; padding:5px 6px; }
  }
  @keyframes flash { from { box-shadow:0 0 0 3px #2563eb; } to { box-shadow:0 0 0 0 transparent; } }
</style>
</head>
<body>
<header>
  <h1>订单实时看板</h1>
  <div class="chips">
    <div class="chip"><b id="c-open">0</b><span>在途订单</span></div>
    <div class="chip green"><b id="c-green">0</b><span>正常</span></div>
    <div class="chip yellow"><b id="c-yellow">0</b><span>预警 ≥80%时限</span></div>
    <div class="chip red"><b id="c-red">0</b><span>超时</span></div>
    <div class="chip stuck"><b id="c-stuck">0</b><span>卡单 同阶段&gt;24小时</span></div>
    <div class="chip"><b id="c-exc">0</b><span>异常</span></div>
    <div class="chip"><b id="c-hold">0</b><span>挂起</span></div>
  </div>
  <div id="kpi"></div>
  <div id="status"><div id="conn" data-state="connecting">连接中…</div><div id="updated"></div></div>
</header>
<div id="stuckbar"><b>卡单</b></div>
<main id="board"></main>
<script>
(function () {
  var STAGES = [
    ['placed', '待支付'], ['paid', '已支付'], ['stock_reserved', '库存已锁定'], ['awaiting_approval', '待审批'],
    ['ready_to_ship', '待发货'], ['packed', '已打包'], ['shipped', '已发货（待签收）']
  ];
  var CHANNELS = { taobao: '淘宝', tmall: '天猫', jd: '京东', pinduoduo: '拼多多', douyin: '抖店', web: '官网', offline: '门店', api: '接口' };
  var SLA_TEXT = { green: '正常', yellow: '预警', red: '超时' };
  var RANK = { red: 0, yellow: 1, green: 2, none: 3 };
  var MAX_CARDS = 60;
  // Every API call needs a bearer token (issue #16): /board#access_token=<token> (kept for the tab).
  var TOKEN = (function () {
    var m = /access_token=([^&]+)/.exec(location.hash || '');
    if (m) { sessionStorage.setItem('flowline-token', decodeURIComponent(m[1])); history.replaceState(null, '', location.pathname + location.search); }
    return sessionStorage.getItem('flowline-token') || '';
  })();
  function api(url) { return fetch(url, { headers: TOKEN ? { authorization: 'Bearer ' + TOKEN } : {} }); }
  var STAGE_NAME = {};
  // Parcels (carrier, waybill / tracking number, last carrier state) of packed and shipped orders.
  var SHIP_STAGES = ['packed', 'shipped'];
  var CARRIER_STATE = { picked_up: '已揽收', in_transit: '运输中', out_for_delivery: '派送中', delivered: '已签收', problem: '异常', returning: '退回中', returned: '已退回' };
  var PARCEL_STATUS = { packed: '已打包', intercept_requested: '拦截中', shipped: '已交接', in_transit: '运输中', carrier_exception: '物流异常', delivered: '已签收', returned: '已退回', stopped: '已停止' };
  var parcels = new Map();  // orderId -> parcels from api/tracking/shipments
  var latest = new Map();   // orderId -> newest view seen (closed orders too, so a stale copy never revives them)
  var flashIds = new Set();
  var loading = false, pending = [];
  var columns = {};
  var board = document.getElementById('board');
  STAGES.forEach(function (s) {
    STAGE_NAME[s[0]] = s[1];
    var sec = document.createElement('section');
    sec.setAttribute('data-stage', s[0]);
    var h = document.createElement('h2');
    h.appendChild(text('span', 'title', s[1]));
    var mini = text('span', 'mini', '');
    var count = text('span', 'count', '0');
    h.appendChild(mini); h.appendChild(count);
    var cards = document.createElement('div'); cards.className = 'cards';
    sec.appendChild(h); sec.appendChild(cards); board.appendChild(sec);
    columns[s[0]] = { cards: cards, count: count, mini: mini };
  });

  function text(el, cls, value) { var e = document.createElement(el); if (cls) e.className = cls; e.textContent = value; return e; }
  function dur(ms) {
    if (ms < 0) ms = 0;
    var m = Math.floor(ms / 60000), h = Math.floor(m / 60), d = Math.floor(h / 24);
    if (d > 0) return d + '天' + (h % 24) + '小时';
    if (h > 0) return h + '小时' + (m % 60) + '分';
    return m + '分钟';
  }
  // The server's colour was computed at sla.asOf; never show "time left" for a moment before it.
  function nowFor(o) { var t = Date.now(), a = o.sla && o.sla.asOf ? Date.parse(o.sla.asOf) : 0; return a > t ? a : t; }
  function isOpen(o) { return !!columns[o.stage]; }
  function has(o, flag) { return o.flags.indexOf(flag) >= 0; }
  function newer(a, b) {
    if (a.eventCount !== b.eventCount) return a.eventCount > b.eventCount;
    return (a.sla.asOf || '') >= (b.sla.asOf || '');
  }
  function apply(o, flash) {
    var old = latest.get(o.orderId);
    if (old && !newer(o, old)) return;
    // A live change of an order this page knows moves the server's counts at once (old group -1,
    // new +1), and so does a new order (its first event); any other (never loaded: its old group is
    // unknown) waits for the refetch 2 s later, which settles everything.
    if (flash && counts && (old || o.eventCount === 1)) { if (old) bump(old, -1); bump(o, 1); }
    latest.set(o.orderId, o);
    if (flash) flashIds.add(o.orderId);
  }
  function bump(o, d) {
    if (!isOpen(o)) return;
    var k = { channel: o.channel, shopId: o.shopId, stage: o.stage, sla: o.sla.colour, onHold: has(o, 'on_hold'), exception: has(o, 'exception'), stuck: !!o.stuck };
    var g = counts.groups.filter(function (x) {
      return x.channel === k.channel && x.shopId === k.shopId && x.stage === k.stage && x.sla === k.sla && x.onHold === k.onHold && x.exception === k.exception && x.stuck === k.stuck;
    })[0];
    if (g) g.count = Math.max(0, g.count + d); else if (d > 0) { k.count = d; counts.groups.push(k); }
  }

  function card(o) {
    var c = document.createElement('div');
    c.id = 'o-' + o.orderId;
    c.className = 'card' + (flashIds.has(o.orderId) ? ' flash' : '');
    c.setAttribute('data-sla', o.sla.colour);
    c.title = o.orderId + (o.channelOrderId ? '  平台单号 ' + o.channelOrderId : '');
    var top = document.createElement('div'); top.className = 'top';
    top.appendChild(text('span', 'id', o.orderId.length > 16 ? '…' + o.orderId.slice(-12) : o.orderId));
    if (SLA_TEXT[o.sla.colour]) top.appendChild(text('span', 'badge ' + o.sla.colour, SLA_TEXT[o.sla.colour]));
    c.appendChild(top);
    var money = (o.currency && o.currency !== 'CNY' ? o.currency + ' ' : '¥') + (o.grandTotal / 100).toFixed(2);
    c.appendChild(text('div', 'who', [CHANNELS[o.channel] || o.channel, o.customerMasked, o.city, money].filter(Boolean).join(' · ')));
    var time = document.createElement('div'); time.className = 'time';
    time.appendChild(text('span', '', '本阶段 ' + dur(Date.now() - Date.parse(o.stageEnteredAt))));
    if (o.sla.dueAt) {
      var left = Date.parse(o.sla.dueAt) - nowFor(o);
      time.appendChild(text('span', 'due ' + (left < 0 ? 'late' : o.sla.colour === 'yellow' ? 'soon' : ''), left < 0 ? '已超时 ' + dur(-left) : '剩余 ' + dur(left)));
    }
    c.appendChild(time);
    var tags = document.createElement('div'); tags.className = 'tags';
    if (has(o, 'on_hold')) tags.appendChild(text('span', 't-hold', '挂起'));
    if (has(o, 'exception')) tags.appendChild(text('span', 't-exc', '异常'));
    if (o.stuck) tags.appendChild(text('span', 't-stuck', '卡单'));
    if (o.priority === 'high') tags.appendChild(text('span', 't-prio', '加急'));
    c.appendChild(tags);
    var why = [o.exceptionReason, o.holdReason && o.holdReason !== o.exceptionReason ? o.holdReason : null].filter(Boolean).join('；');
    c.appendChild(text('div', 'why', why));
    (parcels.get(o.orderId) || []).forEach(function (p) {
      if (p.status === 'stopped') return;
      var state = p.lastCarrierState ? CARRIER_STATE[p.lastCarrierState] || p.lastCarrierState : PARCEL_STATUS[p.status] || p.status;
      var line = text('div', 'ship', [p.carrier, p.trackingNumber || p.waybillNo, state].filter(Boolean).join(' · '));
      if (p.lastCarrierDescription) line.title = p.lastCarrierDescription;
      c.appendChild(line);
    });
    return c;
  }

  function render() {
    var per = {}, c = { open: 0, green: 0, yellow: 0, red: 0, stuck: 0, exc: 0, hold: 0 }, stuck = [];
    STAGES.forEach(function (s) { per[s[0]] = []; });
    latest.forEach(function (o) {
      if (!isOpen(o)) return;
      per[o.stage].push(o);
      c.open++;
      if (c[o.sla.colour] !== undefined) c[o.sla.colour]++;
      if (o.stuck) { c.stuck++; stuck.push(o); }
      if (has(o, 'exception')) c.exc++;
      if (has(o, 'on_hold')) c.hold++;
    });
    // The counts of every open order (api/tracking/counts) once known: the loaded cards stop at 40 pages.
    var total = {};
    if (counts) {
      c = { open: 0, green: 0, yellow: 0, red: 0, stuck: 0, exc: 0, hold: 0 };
      counts.groups.forEach(function (g) {
        var t = total[g.stage] || (total[g.stage] = { n: 0, red: 0, yellow: 0 });
        t.n += g.count; c.open += g.count;
        if (c[g.sla] !== undefined) c[g.sla] += g.count;
        if (g.sla === 'red') t.red += g.count; else if (g.sla === 'yellow') t.yellow += g.count;
        if (g.stuck) c.stuck += g.count;
        if (g.exception) c.exc += g.count;
        if (g.onHold) c.hold += g.count;
      });
    }
    Object.keys(c).forEach(function (k) { document.getElementById('c-' + k).textContent = String(c[k]); });
    STAGES.forEach(function (s) {
      var col = columns[s[0]], list = per[s[0]];
      // Most urgent first: red, yellow, green, no clock; then the longest in the stage.
      list.sort(function (a, b) { return RANK[a.sla.colour] - RANK[b.sla.colour] || (a.stageEnteredAt < b.stageEnteredAt ? -1 : a.stageEnteredAt > b.stageEnteredAt ? 1 : 0); });
      var red = 0, yellow = 0, n = list.length;
      list.forEach(function (o) { if (o.sla.colour === 'red') red++; else if (o.sla.colour === 'yellow') yellow++; });
      if (counts) { var t = total[s[0]] || { n: 0, red: 0, yellow: 0 }; n = t.n; red = t.red; yellow = t.yellow; }
      col.count.textContent = String(n);
      col.mini.textContent = '';
      if (red) col.mini.appendChild(text('span', 'r', '超时 ' + red));
      if (yellow) col.mini.appendChild(text('span', 'y', '预警 ' + yellow));
      col.cards.textContent = '';
      if (!list.length) col.cards.appendChild(text('div', 'empty', '暂无订单'));
      list.slice(0, MAX_CARDS).forEach(function (o) { col.cards.appendChild(card(o)); });
      var shown = Math.min(list.length, MAX_CARDS);
      if (n > shown) col.cards.appendChild(text('div', 'more', '另有 ' + (n - shown) + ' 单（按紧急程度只显示前 ' + shown + ' 单）'));
    });
    var bar = document.getElementById('stuckbar');
    while (bar.children.length > 1) bar.removeChild(bar.lastChild);
    stuck.sort(function (a, b) { return a.stageEnteredAt < b.stageEnteredAt ? -1 : 1; });
    stuck.slice(0, 12).forEach(function (o) {
      var s = document.createElement('span'); s.className = 's';
      s.appendChild(text('i', '', o.orderId.length > 16 ? '…' + o.orderId.slice(-12) : o.orderId));
      s.appendChild(document.createTextNode(' ' + STAGE_NAME[o.stage] + ' ' + dur(Date.now() - Date.parse(o.stageEnteredAt))));
      bar.appendChild(s);
    });
    if (stuck.length > 12) bar.appendChild(text('span', '', '等 ' + stuck.length + ' 单'));
    bar.className = stuck.length ? 'on' : '';
    flashIds.clear();
    document.getElementById('updated').textContent = '更新于 ' + new Date().toLocaleTimeString('zh-CN', { hour12: false });
  }
  function fetchParcels(ids) {
    for (var i = 0; i < ids.length; i += 100) {
      api('api/tracking/shipments?orderIds=' + encodeURIComponent(ids.slice(i, i + 100).join(',')))
        .then(function (r) { return r.ok ? r.json() : {}; })
        .then(function (m) { Object.keys(m).forEach(function (id) { parcels.set(id, m[id]); }); schedule(); })
        .catch(function () {});
    }
  }
  function shipIds() {
    var ids = [];
    latest.forEach(function (o) { if (SHIP_STAGES.indexOf(o.stage) >= 0) ids.push(o.orderId); });
    return ids;
  }
  var scheduled = null;
  function schedule() { if (!scheduled) scheduled = setTimeout(function () { scheduled = null; render(); }, 60); }
  // Every open order counted by the server; fetched again every 30 s and 2 s after live changes.
  // Only the newest request's answer is kept (the 30 s, 2 s and reconnect fetches may overlap).
  var counts = null, countsDue = null, countsAsked = 0, countsKept = 0;
  function loadCounts() {
    var open = STAGES.map(function (s) { return s[0]; }).join(',');
    var n = ++countsAsked;
    api('api/tracking/counts?stage=' + open).then(function (r) { return r.ok ? r.json() : null; }).then(function (c) {
      if (c && n > countsKept) { countsKept = n; counts = c; schedule(); }
    }).catch(function () {});
  }
  function countsChanged() { if (!countsDue) countsDue = setTimeout(function () { countsDue = null; loadCounts(); }, 2000); }

  // Every open order, page by page (the board counts must not stop at one page). Only the newest
  // load counts (a reconnect during a load starts another); until it ends, stream changes wait.
  var generation = 0;
  function load() {
    var open = STAGES.map(function (s) { return s[0]; }).join(',');
    var gen = ++generation, fresh = [];
    function page(cursor, n) {
      return api('api/tracking/orders?limit=500&stage=' + open + (cursor ? '&cursor=' + encodeURIComponent(cursor) : ''))
        .then(function (r) { if (!r.ok) throw new Error('HTTP ' + r.status); return r.json(); })
        .then(function (p) {
          fresh = fresh.concat(p.items);
          return p.nextCursor && n < 40 && gen === generation ? page(p.nextCursor, n + 1) : null;
        });
    }
    if (!loading) pending = [];
    loading = true;
    return page(null, 1).then(function () {
      if (gen !== generation) return;
      latest = new Map();
      fresh.forEach(function (o) { apply(o, false); });
      pending.forEach(function (o) { apply(o, true); });
      loading = false; pending = [];
      render();
      fetchParcels(shipIds());
    }, function () { if (gen === generation) setTimeout(load, 5000); });
  }

  function kpis() {
    var from = new Date(); from.setHours(0, 0, 0, 0);
    api('api/tracking/kpis?from=' + encodeURIComponent(from.toISOString())).then(function (r) { return r.json(); }).then(function (k) {
      var pct = function (v) { return v === null || v === undefined ? '—' : (v * 100).toFixed(1) + '%'; };
      var p50 = k.paidToShipped && k.paidToShipped.p50Ms !== null ? dur(k.paidToShipped.p50Ms) : '—';
      var el = document.getElementById('kpi'); el.textContent = '';
      [['今日下单', String(k.orders)], ['异常率', pct(k.exceptionRate)], ['人工介入率', pct(k.manualTouchRate)], ['支付→发货 中位', p50]].forEach(function (p) {
        var s = document.createElement('span'); s.appendChild(document.createTextNode(p[0] + ' ')); s.appendChild(text('b', '', p[1])); el.appendChild(s);
      });
    }).catch(function () {});
  }

  // Subscribe first, then load: changes that arrive during the load are applied after it (newest wins).
  function connect() {
    var es = new EventSource('api/tracking/stream' + (TOKEN ? '?access_token=' + encodeURIComponent(TOKEN) : ''));
    var conn = document.getElementById('conn');
    es.onopen = function () { conn.setAttribute('data-state', 'live'); conn.textContent = '实时连接'; load(); loadCounts(); };
    es.onerror = function () { conn.setAttribute('data-state', 'down'); conn.textContent = '连接中断，重连中…'; };
    es.addEventListener('order', function (e) {
      var o = JSON.parse(e.data).order;
      if (loading) pending.push(o); else { apply(o, true); schedule(); if (SHIP_STAGES.indexOf(o.stage) >= 0) fetchParcels([o.orderId]); }
      countsChanged();
    });
    es.addEventListener('rebuilt', function () { load(); loadCounts(); });
  }

  render();
  connect();
  kpis();
  setInterval(render, 30000);
  setInterval(loadCounts, 30000);
  // Carrier states change without a stage change: refresh the parcels on the cards.
  setInterval(function () { fetchParcels(shipIds()); }, 30000);
  setInterval(kpis, 60000);
})();
</script>
</body>
</html>
`;
