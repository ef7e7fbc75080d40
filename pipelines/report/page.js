"use strict";
(function () {
  var box = document.getElementById("filter");
  var stories = Array.prototype.slice.call(document.querySelectorAll("details.story"));
  var count = document.getElementById("filter-count");
  if (!box) { return; }
  box.hidden = false;
  box.addEventListener("input", function () {
    var q = box.value.trim().toLowerCase();
    var n = 0;
    stories.forEach(function (s) {
      var hit = !q || s.getAttribute("data-search").indexOf(q) !== -1;
      s.hidden = !hit;
      if (hit) { n += 1; }
    });
    count.textContent = q ? n + " of " + stories.length + " shown" : "";
  });
}());
