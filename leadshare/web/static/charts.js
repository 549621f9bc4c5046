/* leadshare charts: Apache ECharts (vendor/echarts, served by the app) drawn from the figures a
   page carries in <script type="application/json" id="chart-data"> (no inline script: the
   Content-Security-Policy allows only our own files). Each chart's table stays on the page
   beside it, so the page still says everything without JavaScript and when printed.
   Every chart is drawn as SVG (sharp in print); texts arrive translated in the data. */
(function () {
  "use strict";
  if (!window.echarts) { return; }

  var INK = "#1d2129", MUTED = "#86909c", LINE = "#e5e6eb", BRAND = "#165dff";
  var PALETTE = ["#165dff", "#14c9c9", "#f7ba1e", "#722ed1", "#f53f3f", "#00b42a", "#ff7d00",
    "#3491fa", "#9fdb1d", "#d91ad9"];
  var charts = [];

  function percent(value) {
    return value === null || value === undefined ? "–" : (value * 100).toFixed(1) + "%";
  }

  function base(spec) {
    return {
      animation: false,
      color: PALETTE,
      textStyle: { color: INK, fontFamily: "inherit" },
      tooltip: { trigger: "axis", confine: true },
      grid: { left: 8, right: spec.horizontal ? 72 : 24, top: spec.legend ? 48 : (spec.top || 16),
        bottom: 8, containLabel: true },
      aria: { enabled: true }
    };
  }

  /* Bars, horizontal or not: categories, one or more series, an optional label per bar. */
  function bars(spec) {
    var option = base(spec);
    var category = { type: "category", data: spec.categories, inverse: !!spec.horizontal,
      axisTick: { show: false }, axisLine: { lineStyle: { color: LINE } },
      axisLabel: { color: INK, interval: 0, hideOverlap: true } };
    var value = { type: "value", splitLine: { lineStyle: { color: LINE } },
      axisLabel: { color: MUTED, formatter: spec.percent ? function (v) { return Math.round(v * 100) + "%"; } : null } };
    option.xAxis = spec.horizontal ? value : category;
    option.yAxis = spec.horizontal ? category : value;
    if (spec.legend) { option.legend = { top: 0, textStyle: { color: INK } }; }
    option.tooltip.axisPointer = { type: "shadow" };
    if (spec.percent) { option.tooltip.valueFormatter = percent; }
    option.series = spec.series.map(function (s, i) {
      return {
        type: "bar", name: s.name, data: s.values, barMaxWidth: 36, stack: spec.stacked ? "all" : null,
        itemStyle: { color: s.color || PALETTE[i % PALETTE.length], borderRadius: 3 },
        label: {
          show: !!s.labels || !!spec.show_values,
          position: spec.horizontal ? "right" : "top", color: INK,
          formatter: function (p) {
            if (s.labels) { return s.labels[p.dataIndex]; }
            return spec.percent ? percent(p.value) : p.value;
          }
        }
      };
    });
    return option;
  }

  /* A histogram of time bands with the median and p90 marked at their place inside a band. */
  function histogram(spec) {
    var option = bars({ categories: spec.categories, series: [{ name: spec.name, values: spec.counts }],
      show_values: true, top: 48 });
    option.tooltip.axisPointer = { type: "shadow" };
    option.series[0].barCategoryGap = "8%";
    option.series[0].markLine = {
      symbol: "none", silent: true,
      label: { formatter: "{b}", color: INK, position: "end" },
      data: spec.marks.map(function (m, i) {
        var color = i ? "#f53f3f" : "#00b42a";
        return { name: m.text, xAxis: m.at,
          label: { distance: 4 + 16 * i, color: color, fontWeight: "bold" },
          lineStyle: { color: color, type: "dashed", width: 2 } };
      })
    };
    return option;
  }

  /* Lines per period: counts on the left axis, rates (dashed) on the right one. */
  function lines(spec) {
    var option = base({ legend: true });
    option.legend = { top: 0, type: "scroll", textStyle: { color: INK } };
    option.xAxis = { type: "category", data: spec.categories, boundaryGap: true,
      axisLine: { lineStyle: { color: LINE } }, axisLabel: { color: MUTED, hideOverlap: true } };
    var rates = spec.series.some(function (s) { return s.axis === 1; });
    option.yAxis = [
      { type: "value", minInterval: 1, splitLine: { lineStyle: { color: LINE } }, axisLabel: { color: MUTED } },
      { type: "value", min: 0, max: 1, show: rates, splitLine: { show: false },
        axisLabel: { color: MUTED, formatter: function (v) { return Math.round(v * 100) + "%"; } } }
    ];
    option.series = spec.series.map(function (s, i) {
      var rate = s.axis === 1;
      return {
        type: s.type || "line", name: s.name, data: s.values, yAxisIndex: rate ? 1 : 0,
        symbolSize: 6, connectNulls: false, barMaxWidth: 28,
        itemStyle: { color: s.color || PALETTE[i % PALETTE.length], opacity: s.faded ? 0.45 : 1 },
        lineStyle: { type: s.dashed ? "dashed" : "solid", width: 2 },
        tooltip: rate ? { valueFormatter: percent } : {}
      };
    });
    return option;
  }

  /* The tile map: one square per province in its rough place, flows as curved arrows between
     provinces; its stores are points inside their squares, and zoomed in (twice or more) the
     arrows run between the stores instead, with the stores named. */
  var STORE_ZOOM = 2;

  function tiles(spec) {
    var most = Math.max.apply(null, [1].concat(spec.flows.map(function (f) { return f.leads; })));
    var busiest = Math.max.apply(null, [1].concat(spec.tiles.map(function (t) { return t.value; })));
    var storeFlows = spec.store_flows || [];
    var mostStore = Math.max.apply(null, [1].concat(storeFlows.map(function (f) { return f.leads; })));
    var index = {}, at = {}, stores = {};
    var data = spec.tiles.map(function (t, i) {
      var share = t.value / busiest;
      index[t.code] = i;
      at[t.code] = [t.x * 50, t.y * 50];
      return {
        name: t.name, x: t.x * 50, y: t.y * 50, label: t.label, tip: t.tip,
        itemStyle: { color: t.value ? "rgba(22, 93, 255, " + (0.15 + 0.6 * share).toFixed(2) + ")" : "#f2f3f5",
          borderColor: t.value ? BRAND : LINE, borderWidth: 1 }
      };
    });
    (spec.stores || []).forEach(function (s) {
      var square = at[s.province];
      if (!square) { return; }
      stores[s.id] = data.length;
      data.push({
        name: s.name, x: square[0] + s.dx, y: square[1] + s.dy, tip: s.name, store: true,
        symbol: "circle", symbolSize: s.busy ? 6 : 4,
        itemStyle: { color: s.busy ? "#f77234" : "#86909c", borderColor: "#fff", borderWidth: 0.5 },
        label: { show: false, position: "right", fontSize: 10, color: INK, formatter: s.name.split(" ")[0] }
      });
    });
    function links(zoomed) {
      if (zoomed && storeFlows.length) {
        return storeFlows.filter(function (f) { return f.from in stores && f.to in stores; }).map(function (f) {
          return { source: stores[f.from], target: stores[f.to], tip: f.tip,
            lineStyle: { width: 0.5 + 3 * f.leads / mostStore, curveness: 0.25, color: "#f77234", opacity: 0.8 } };
        });
      }
      return spec.flows.filter(function (f) {
        return f.from in index && f.to in index && f.from !== f.to;
      }).map(function (f) {
        return {
          source: index[f.from], target: index[f.to], tip: f.tip,
          lineStyle: { width: 1 + 7 * f.leads / most, curveness: 0.3, color: "#f77234", opacity: 0.75 }
        };
      });
    }
    var option = base({});
    option.tooltip = { trigger: "item", confine: true, formatter: function (p) { return p.data.tip || p.name; } };
    option.series = [{
      type: "graph", layout: "none", roam: true, silent: false,
      left: 30, right: 30, top: 26, bottom: 26,
      symbol: "roundRect", symbolSize: spec.tile_size || 44,
      edgeSymbol: ["none", "arrow"], edgeSymbolSize: [0, 9],
      label: { show: true, color: INK, fontSize: 12, formatter: function (p) { return p.data.label; } },
      labelLayout: { hideOverlap: true },
      emphasis: { focus: "adjacency", lineStyle: { opacity: 0.9 } },
      data: data,
      links: links(false)
    }];
    option.onRoam = function (chart) {  /* called by draw() on every zoom or pan */
      var zoomed = (chart.getOption().series[0].zoom || 1) >= STORE_ZOOM;
      if (zoomed === chart.__storesShown) { return; }
      chart.__storesShown = zoomed;
      chart.setOption({ series: [{
        links: links(zoomed),
        data: data.map(function (d) {
          return d.store ? Object.assign({}, d, { label: Object.assign({}, d.label, { show: zoomed }) }) : d;
        })
      }] });
    };
    return option;
  }

  var KINDS = { bars: bars, histogram: histogram, lines: lines, tiles: tiles };

  function draw(el, spec) {
    var make = KINDS[spec.kind];
    if (!make) { return; }
    if (spec.kind === "bars" && spec.horizontal && !spec.fixed) {  /* as tall as its bars */
      el.style.height = Math.max(140, 56 + 34 * spec.categories.length) + "px";
    }
    var chart = window.echarts.init(el, null, { renderer: "svg" });
    var option = make(spec);
    var onRoam = option.onRoam;
    delete option.onRoam;
    chart.setOption(option);
    if (onRoam) { chart.on("graphRoam", function () { onRoam(chart); }); }
    el.setAttribute("data-drawn", "true");
    charts.push(chart);
  }

  function start() {
    var source = document.getElementById("chart-data");
    if (!source) { return; }
    var data;
    try { data = JSON.parse(source.textContent); } catch (e) { return; }
    document.querySelectorAll("[data-chart]").forEach(function (el) {
      var spec = data[el.getAttribute("data-chart")];
      if (spec) { draw(el, spec); }
    });
    var resize = function () { charts.forEach(function (c) { c.resize(); }); };
    window.addEventListener("resize", resize);
    window.addEventListener("beforeprint", resize);
    window.addEventListener("afterprint", resize);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
}());
