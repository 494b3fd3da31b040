// tsssl docs: pages with math load MathJax from a CDN. Offline that load fails and the TeX would show with its
// \( \) delimiters; once the page has loaded (deferred scripts ran or failed) this shows the bare TeX instead.
window.addEventListener("load", function () {
  if (window.MathJax && window.MathJax.typesetPromise) return;  // MathJax is here: it typesets the math
  document.querySelectorAll("span.math, div.math").forEach(function (el) {
    el.textContent = el.textContent.trim().replace(/^\\[(\[]/, "").replace(/\\[)\]]$/, "").trim();
    el.classList.add("math-fallback");
  });
});
