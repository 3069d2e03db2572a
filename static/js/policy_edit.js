// Clicking a problem that names a line selects that line in the policy editor.
(function () {
  document.querySelectorAll("[data-issue]").forEach(function (button) {
    var match = /\(line (\d+)\)\s*$/.exec(button.getAttribute("data-issue"));
    if (!match) { button.disabled = true; return; }
    button.addEventListener("click", function () {
      var area = document.getElementById(button.getAttribute("data-editor"));
      if (!area) return;
      var lines = area.value.split("\n"), line = parseInt(match[1], 10) - 1, start = 0;
      for (var i = 0; i < line && i < lines.length; i++) start += lines[i].length + 1;
      var end = start + (lines[line] || "").length;
      area.focus();
      area.setSelectionRange(start, end);
      var height = area.scrollHeight / Math.max(lines.length, 1);
      area.scrollTop = Math.max(0, line * height - area.clientHeight / 3);
    });
  });
})();
