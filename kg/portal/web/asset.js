// The asset page (being written).
import { h } from "./ui.js";

export async function mount(main) {
  main.append(h("h1", {}, "asset"));
}
