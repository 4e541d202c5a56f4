// Every portal page: the shell's data block names the page; its module fills <main>.
import { mountHeader } from "./api.js";
import { pageData, errorBox } from "./ui.js";

const data = pageData();
const main = document.getElementById("main");
mountHeader();
try {
  const page = await import(`./${data.page}.js`);
  main.replaceChildren();
  await page.mount(main, data);
} catch (err) {
  main.replaceChildren(errorBox(err));
}
main.dataset.ready = "true";
// the moment the page is usable, for the benchmark (bench/portal.py) and for the curious
performance.mark("kg-ready");
