// computeport portal: tiny progressive enhancements, no framework.
(function () {
  "use strict";
  // Auto-submit selects (the language switch) once JavaScript runs.
  document.querySelectorAll("select[data-autosubmit]").forEach(function (el) {
    el.addEventListener("change", function () { el.form.submit(); });
  });
  // Charts: every [data-chart] div names a JSON block holding {data, layout}.
  var charts = document.querySelectorAll("[data-chart]");
  if (!charts.length) { return; }
  function draw() {
    charts.forEach(function (el) {
      var source = document.getElementById(el.getAttribute("data-chart"));
      if (!source) { return; }
      var spec = JSON.parse(source.textContent);
      var layout = Object.assign({
        margin: { l: 56, r: 16, t: 8, b: 44 },
        paper_bgcolor: "rgba(0,0,0,0)",
        plot_bgcolor: "rgba(0,0,0,0)",
        font: { family: getComputedStyle(document.body).fontFamily, size: 12, color: "#152033" },
        legend: { orientation: "h", y: -0.18 },
        hovermode: "x unified"
      }, spec.layout || {});
      window.Plotly.newPlot(el, spec.data, layout, { displaylogo: false, responsive: true, modeBarButtonsToRemove: ["lasso2d", "select2d"] });
      el.setAttribute("data-rendered", String(spec.data.length));
    });
  }
  var script = document.createElement("script");
  script.src = "/static/vendor/plotly.min.js";
  script.onload = draw;
  document.head.appendChild(script);
})();
