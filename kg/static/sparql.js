// The SPARQL page's example buttons: the examples come as a JSON data block, not as script.
"use strict";
(function () {
  const block = document.getElementById("examples");
  const examples = block ? JSON.parse(block.textContent || "{}") : {};
  const query = document.getElementById("query");
  document.querySelectorAll("button[data-name]").forEach(function (button) {
    button.addEventListener("click", function () {
      const text = examples[button.dataset.name];
      if (query && typeof text === "string") {
        query.value = text;
      }
    });
  });
})();
