/* 统计: draw the bar and line charts from the numbers the page's tables show (ECharts, served by the
   app itself). Runs on a full load and again when htmx swaps a boosted page in. */
(function () {
  "use strict";
  var data = document.getElementById("stats-chart-data");
  if (!data) { return; }

  function follow(links) {
    return function (params) {
      var link = links[params.seriesIndex] ? links[params.seriesIndex][params.dataIndex] : null;
      if (link) { window.location.href = link; }
    };
  }

  function chart(id, option, links) {
    var element = document.getElementById(id);
    if (!element) { return; }
    var old = window.echarts.getInstanceByDom(element);
    if (old) { old.dispose(); }
    var drawn = window.echarts.init(element, null, { renderer: "canvas" });
    drawn.setOption(option);
    drawn.on("click", follow(links));
  }

  function draw() {
    var figures = JSON.parse(data.textContent);
    var axisLabel = { interval: 0, rotate: figures.bar.labels.length > 4 ? 30 : 0 };
    chart("stats-bar", {
      animation: false,
      tooltip: { trigger: "axis" },
      grid: { left: 8, right: 16, top: 36, bottom: 8, containLabel: true },
      xAxis: { type: "category", data: figures.bar.labels, axisLabel: axisLabel },
      yAxis: { type: "value", name: figures.figure },
      series: [{ type: "bar", name: figures.figure, data: figures.bar.values, itemStyle: { color: "#b22222" } }]
    }, [figures.bar.links]);
    chart("stats-line", {
      animation: false,
      tooltip: { trigger: "axis" },
      legend: { type: "scroll", top: 0 },
      grid: { left: 8, right: 16, top: 60, bottom: 8, containLabel: true },
      xAxis: { type: "category", data: figures.line.months },
      yAxis: { type: "value", name: figures.figure },
      series: figures.line.series.map(function (row) {
        return { type: "line", name: row.name, data: row.values, connectNulls: false };
      })
    }, figures.line.series.map(function (row) { return row.links; }));
  }

  function resizeAll() {
    ["stats-bar", "stats-line"].forEach(function (id) {
      var element = document.getElementById(id);
      var drawn = element && window.echarts && window.echarts.getInstanceByDom(element);
      if (drawn) { drawn.resize(); }
    });
  }

  if (!window.statsResizeBound) {
    window.statsResizeBound = true;
    window.addEventListener("resize", resizeAll);
  }
  if (window.echarts) {
    draw();
  } else {
    var script = document.createElement("script");
    script.src = data.getAttribute("data-echarts");
    script.onload = draw;
    document.head.appendChild(script);
  }
}());
