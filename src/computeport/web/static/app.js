// computeport portal: tiny progressive enhancements, no framework.
(function () {
  "use strict";
  // Auto-submit selects (the language switch) once JavaScript runs.
  document.querySelectorAll("select[data-autosubmit]").forEach(function (el) {
    el.addEventListener("change", function () { el.form.submit(); });
  });
  // The application form's cost estimate follows the GPU-hours typed, rounding as billing does:
  // list = hours × price half-up to the cent, subsidy = list × rate half-down (exact integers).
  var estimate = document.querySelector("[data-live-estimate]");
  var hoursInput = document.getElementById("gpu_hours");
  if (estimate && hoursInput && window.BigInt) {
    var ratio = function (text) {
      var parts = text.split("/");
      return [BigInt(parts[0]), BigInt(parts[1])];
    };
    var price = ratio(estimate.getAttribute("data-price"));
    var rate = ratio(estimate.getAttribute("data-rate"));
    var money = function (cents) {
      var whole = (cents / 100n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
      return "HK$" + whole + "." + (cents % 100n).toString().padStart(2, "0");
    };
    var update = function () {
      if (!/^[1-9][0-9]{0,8}$/.test(hoursInput.value.trim())) { return; }
      var hours = BigInt(hoursInput.value.trim());
      var num = hours * price[0];
      var list = num / price[1];
      if (2n * (num % price[1]) >= price[1]) { list += 1n; }
      var snum = list * rate[0];
      var subsidy = snum / rate[1];
      if (2n * (snum % rate[1]) > rate[1]) { subsidy += 1n; }
      estimate.querySelector(".estimate-hours").textContent = hours.toLocaleString("en");
      estimate.querySelector(".estimate-list").textContent = money(list);
      estimate.querySelector(".estimate-subsidy").textContent = money(subsidy);
      estimate.querySelector(".estimate-copay").textContent = money(list - subsidy);
    };
    hoursInput.addEventListener("input", update);
    update();
  }
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
