// The report page follows its build: poll the status every second, reload when finished.
(function () {
  var panel = document.getElementById("report-progress");
  if (!panel) return;
  var status = panel.getAttribute("data-status");
  if (status === "done" || status === "error") return;
  var url = panel.getAttribute("data-report-status");
  var bar = panel.querySelector("[data-report-bar]");
  var stage = panel.querySelector("[data-report-stage]");
  function poll() {
    fetch(url, { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (data) {
        if (data.status === "done" || data.status === "error") { window.location.reload(); return; }
        if (bar) bar.value = data.progress;
        if (stage) stage.textContent = (data.status === "queued" ? "Queued" : "Running") + (data.stage ? ": " + data.stage : "");
        setTimeout(poll, 1000);
      })
      .catch(function () { setTimeout(poll, 3000); });
  }
  setTimeout(poll, 1000);
})();
