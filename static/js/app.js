// Clearpath's small front-end helpers. htmx does the requests; this file only adds
// behaviour that has no attribute of its own. No inline script anywhere (strict CSP).
(function () {
  "use strict";

  // A boosted form that failed validation comes back as 422 and is swapped in (see the
  // htmx-config meta); move focus to the first error so screen readers and thumbs find it.
  document.addEventListener("htmx:afterSettle", function (event) {
    if (!event.detail.xhr || event.detail.xhr.status !== 422) return;
    var invalid = document.querySelector("[aria-invalid=true], .error");
    if (invalid && typeof invalid.focus === "function") {
      invalid.setAttribute("tabindex", invalid.getAttribute("tabindex") || "-1");
      invalid.focus({ preventScroll: false });
    }
  });
})();
