// Layout: everything fits the screen, with no scroll bar. The sections share the space left of
// the calls panel; when too many to stay readable, they rotate in pages (?rotate=<seconds>,
// default 10) while the calls panel stays. `grid` and `pages` are pure (tests/browser/board_text).
(function (Board) {
  "use strict";

  /**
   * How many columns and rows `n` sections take in a `w`×`h` box so that each is as large as
   * it can be; `null` when even the best leaves a section smaller than `min` (then: pages).
   */
  function grid(n, w, h, gap, min) {
    var best = null;
    for (var cols = 1; cols <= n; cols++) {
      var rows = Math.ceil(n / cols);
      var cw = (w - gap * (cols - 1)) / cols;
      var ch = (h - gap * (rows - 1)) / rows;
      if (cw < min.w || ch < min.h) continue;
      // The numbers are what must be read: two side by side, sized by the tighter dimension.
      var size = Math.min(ch * 0.6, cw * 0.28);
      if (!best || size > best.size) best = { cols: cols, rows: rows, size: size };
    }
    return best;
  }

  /** Splits `n` sections into pages of at most what fits; the pages share them evenly. */
  function pages(n, w, h, gap, min) {
    if (n === 0) return { perPage: 0, count: 1 };
    var fit = n;
    while (fit > 1 && !grid(fit, w, h, gap, min)) fit--;
    var count = Math.ceil(n / fit);
    return { perPage: Math.ceil(n / count), count: count };
  }

  Board.grid = grid;
  Board.pages = pages;
  if (typeof document === "undefined") return;

  var pageTimer = null;

  function tv() {
    // A phone or a narrow window scrolls (one column); a screen wider than tall is a TV.
    return window.innerWidth >= 768 && window.innerWidth >= window.innerHeight * 0.9;
  }

  function layout() {
    var state = Board.state;
    var main = Board.el("polies");
    var cards = Array.prototype.slice.call(main.children);
    document.body.classList.toggle("tv", tv());
    if (!tv()) {
      cards.forEach(function (c) { c.hidden = false; });
      main.style.gridTemplateColumns = "";
      main.style.gridTemplateRows = "";
      state.pageCount = 1;
      state.page = 0;
      Board.el("pager").hidden = true;
      return;
    }
    var style = getComputedStyle(main);
    var gap = parseFloat(style.columnGap) || 0;
    var w = main.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    var h = main.clientHeight - parseFloat(style.paddingTop) - parseFloat(style.paddingBottom);
    // Smaller than this, a number is no longer read from across a waiting room.
    var min = { w: Math.max(260, window.innerWidth * 0.15), h: Math.max(170, window.innerHeight * 0.22) };
    var p = pages(cards.length, w, h, gap, min);
    state.pageCount = p.count;
    if (state.page >= p.count) state.page = 0;
    var onPage = cards.slice(state.page * p.perPage, (state.page + 1) * p.perPage);
    var g = grid(Math.max(onPage.length, 1), w, h, gap, { w: 0, h: 0 });
    main.style.gridTemplateColumns = "repeat(" + g.cols + ", minmax(0, 1fr))";
    main.style.gridTemplateRows = "repeat(" + g.rows + ", minmax(0, 1fr))";
    cards.forEach(function (c) { c.hidden = onPage.indexOf(c) < 0; });
    Board.el("pager").hidden = p.count < 2;
    Board.el("pager").textContent = "Halaman " + (state.page + 1) + " dari " + p.count;
    // Snapshots come often in a busy clinic: they must not hold the rotation back.
    if (p.count > 1 && !pageTimer) pageTimer = setTimeout(turnPage, Board.params.rotateMs);
  }

  function turnPage() {
    pageTimer = null;
    Board.state.page = (Board.state.page + 1) % Board.state.pageCount;
    layout();
  }

  /** Brings a section's page forward (a call there), for a whole rotation period. */
  function showPageOf(key) {
    var state = Board.state;
    if (state.pageCount < 2) return;
    var cards = Array.prototype.slice.call(Board.el("polies").children);
    var i = cards.findIndex(function (c) { return c.dataset.poly === key; });
    if (i < 0) return;
    var perPage = Math.ceil(cards.length / state.pageCount);
    var page = Math.floor(i / perPage);
    if (page !== state.page) {
      state.page = page;
      clearTimeout(pageTimer);
      pageTimer = null;
      layout();
    }
  }

  window.addEventListener("resize", function () { layout(); });

  Board.layout = layout;
  Board.showPageOf = showPageOf;
})(typeof module !== "undefined" && module.exports ? module.exports : (window.Board = window.Board || {}));
