// Optional: "select all". Without JavaScript each row is ticked by hand; the form works the same.
(function () {
  var all = document.querySelector("[data-select-all]");
  if (!all) return;
  all.closest("label").hidden = false;
  all.addEventListener("change", function () {
    document.querySelectorAll('input[name="ids"]').forEach(function (box) { box.checked = all.checked; });
  });
})();
