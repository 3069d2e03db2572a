// Draws the charts that governance/reports/charts.py embeds: each .plotly-chart holds an empty
// .plotly-graph-div and its figure as a JSON data block, so no inline script runs and the
// Content-Security-Policy forbids them all. Runs on load and on content htmx swaps in.
(function () {
  function draw(root) {
    if (!window.Plotly || !root.querySelectorAll) return;
    var charts = Array.prototype.slice.call(root.querySelectorAll(".plotly-chart"));
    if (root.matches && root.matches(".plotly-chart")) charts.push(root);  // htmx may load the chart itself
    charts.forEach(function (chart) {
      if (chart.hasAttribute("data-drawn")) return;
      var target = chart.querySelector(".plotly-graph-div");
      var source = chart.querySelector("script.plotly-figure");
      if (!target || !source) return;
      chart.setAttribute("data-drawn", "");
      var figure = JSON.parse(source.textContent);
      window.Plotly.newPlot(target, figure.data, figure.layout, figure.config);
    });
  }
  draw(document);
  if (window.htmx) { window.htmx.onLoad(draw); }
})();
