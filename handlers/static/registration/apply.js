/* Optional: the page works without this. Choosing a prefecture asks the server for its
   local governments (the same as pressing "show organisations"); errors get the focus. */
(function () {
  var form = document.getElementById("apply-form");
  if (!form) { return; }
  var prefecture = document.getElementById("prefecture");
  var lookup = document.getElementById("lookup");
  if (prefecture && lookup) {
    prefecture.onchange = function () {
      var query = document.getElementById("org_query");
      if (query) { query.value = ""; }
      lookup.click();
    };
  }
  var summary = document.getElementById("error-summary") || document.getElementById("notice");
  if (summary) {
    if (!summary.getAttribute("tabindex")) { summary.setAttribute("tabindex", "-1"); }
    summary.focus();
  }
})();
