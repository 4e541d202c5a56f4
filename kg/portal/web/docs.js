// The HTTP API's documentation (/docs): Swagger UI on kg's own /openapi.json, served from this
// origin and told not to call out (no validator badge, no fonts from elsewhere). "Try it out"
// runs against this server. The write operations carry the document's bearer scheme, so
// Swagger's own Authorize sends the token; the token the portal's header signed in with is
// handed to it (and taken back on sign-out).
import { TOKEN_EVENT, token } from "./api.js";
import { errorBox, h, setTitle } from "./ui.js";

const SCHEME = "bearer"; // the security scheme of /openapi.json (kg.api.openapi.BEARER)

export async function mount(main) {
  setTitle("HTTP API");
  const head = h(
    "header",
    { class: "docs-head" },
    h(
      "div",
      {},
      h("h1", {}, "HTTP API"),
      h(
        "p",
        { class: "muted" },
        "Every route of this kg server, from its OpenAPI document (",
        h("a", { href: "/openapi.json", "data-testid": "openapi-link" }, "/openapi.json"),
        "). “Try it out” sends the request to this server; reads are open, the locked writes use the token you signed in with (",
        h("em", {}, "Sign in to write"),
        ", top right, or Swagger's ",
        h("em", {}, "Authorize"),
        "). SPARQL has its own ",
        h("a", { href: "/sparql" }, "workbench"),
        ".",
      ),
    ),
  );
  const host = h("div", { class: "docs-swagger", "data-testid": "api-docs" });
  main.append(head, host);
  const SwaggerUIBundle = window.SwaggerUIBundle;
  if (!SwaggerUIBundle) {
    host.append(h("div", { class: "notice" }, "The API documentation needs the portal's browser libraries: run `make setup`. The document itself is at /openapi.json."));
    return;
  }
  let ui = null;
  await new Promise((resolve) => {
    ui = SwaggerUIBundle({
      url: new URL("/openapi.json", window.location.origin).href,
      domNode: host,
      presets: [SwaggerUIBundle.presets.apis],
      layout: "BaseLayout",
      deepLinking: true,
      validatorUrl: null, // the badge would ask validator.swagger.io about the document
      withCredentials: false,
      displayRequestDuration: true,
      defaultModelsExpandDepth: 0,
      docExpansion: "list",
      filter: true,
      tryItOutEnabled: false,
      syntaxHighlight: { activated: true, theme: "agate" },
      onComplete: () => resolve(),
      onFailure: (err) => {
        host.prepend(errorBox(err));
        resolve();
      },
    });
  });
  const follow = () => {
    const signed = token();
    if (signed) ui.preauthorizeApiKey(SCHEME, signed);
    // Swagger's logout fails on a scheme it holds nothing for
    else if (ui.authSelectors.authorized()?.get(SCHEME)) ui.authActions.logout([SCHEME]);
  };
  follow();
  window.addEventListener(TOKEN_EVENT, follow);
}
