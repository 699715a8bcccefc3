// Progressive enhancement only: the page works without it. Adds Copy buttons next to keys.
document.querySelectorAll("button.copy").forEach(function (b) {
  b.hidden = false;
  b.addEventListener("click", function () {
    navigator.clipboard.writeText(b.getAttribute("data-copy")).then(function () { b.textContent = "Copied"; });
  });
});
