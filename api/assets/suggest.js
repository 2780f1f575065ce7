// Suggestions for the search box: completions from /api/v1/suggest offered in the box's
// datalist as one types. Without this script the box is a plain search field. Suggestions
// are set as option values (text, never markup).
(function () {
  "use strict";
  var box = document.getElementById("q");
  var list = document.getElementById("suggestions");
  if (!box || !list || !window.fetch) {
    return;
  }
  var lang = document.documentElement.lang === "en" ? "en" : "sv";
  var timer = null;
  var latest = 0;
  box.addEventListener("input", function () {
    clearTimeout(timer);
    var typed = box.value.trim();
    if (typed.length < 2) {
      list.textContent = "";
      return;
    }
    timer = setTimeout(function () {
      var asked = ++latest;
      fetch("/api/v1/suggest?limit=8&lang=" + lang + "&q=" + encodeURIComponent(typed))
        .then(function (r) { return r.ok ? r.json() : { suggestions: [] }; })
        .then(function (answer) {
          if (asked !== latest) {
            return;
          }
          list.textContent = "";
          answer.suggestions.forEach(function (s) {
            var option = document.createElement("option");
            option.value = s.text;
            list.appendChild(option);
          });
        })
        .catch(function () {});
    }, 120);
  });
})();
