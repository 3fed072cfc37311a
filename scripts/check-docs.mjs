// Runs after typedoc (`npm run docs`), on what it wrote to docs/api/api.json, for what
// typedoc's own validation (treatWarningsAsErrors, notDocumented) does not check:
//   - the API site has one module per public subpath, named as users import it, and no other;
//   - every exported function, class and constant carries an @example;
//   - every error code has a row in docs/guides/troubleshooting.md;
//   - every relative link in README.md and docs/**/*.md points to a file or directory that
//     exists, and every #anchor into a Markdown file to one of its headings (GitHub's slugs).
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const problems = [];

// 1 and 2: the API reference.
const api = JSON.parse(readFileSync(join(root, "docs/api/api.json"), "utf8"));
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
const subpaths = Object.keys(pkg.exports)
  .filter((key) => key !== "./package.json")
  .map((key) => (key === "." ? pkg.name : `${pkg.name}/${key.slice(2)}`));
const modules = (api.children ?? []).map((m) => m.name);
for (const s of subpaths) if (!modules.includes(s)) problems.push(`API docs: no module named "${s}" (add its entry file to typedoc.json and end its first doc comment with "@module ${s}")`);
for (const m of modules) if (!subpaths.includes(m)) problems.push(`API docs: module "${m}" is not a package.json export`);

// ReflectionKind: Variable 32, Function 64, Class 128.
const NEEDS_EXAMPLE = new Map([
  [32, "constant"],
  [64, "function"],
  [128, "class"],
]);
const hasExample = (comment) => (comment?.blockTags ?? []).some((tag) => tag.tag === "@example");
for (const module of api.children ?? []) {
  for (const child of module.children ?? []) {
    const kind = NEEDS_EXAMPLE.get(child.kind);
    if (!kind) continue;
    const comments = [child.comment, ...(child.signatures ?? []).map((s) => s.comment)];
    if (!comments.some(hasExample)) {
      const source = child.sources?.[0];
      problems.push(`API docs: ${module.name} ${kind} ${child.name} has no @example${source ? ` (${source.fileName}:${source.line})` : ""}`);
    }
  }
}

// 3: every error code has its row in the troubleshooting guide's table.
const core = (api.children ?? []).find((m) => m.name === pkg.name);
const codes = (core?.children ?? [])
  .filter((c) => c.name === "WebhookErrorCode" || c.name.endsWith("ErrorCode"))
  .flatMap((c) => (c.type?.type === "union" ? c.type.types : []))
  .filter((t) => t.type === "literal" && typeof t.value === "string")
  .map((t) => t.value);
if (codes.length === 0) problems.push("API docs: found no error codes (WebhookErrorCode) to check the troubleshooting guide against");
const troubleshooting = readFileSync(join(root, "docs/guides/troubleshooting.md"), "utf8");
for (const code of new Set(codes)) {
  if (!new RegExp(`^\\|[^\\n]*\`${code}\``, "m").test(troubleshooting)) problems.push(`docs/guides/troubleshooting.md: no table row for the error code \`${code}\``);
}

// 4: links in the Markdown a user reads.
function markdownFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return path === join(root, "docs/api") ? [] : markdownFiles(path);
    return entry.name.endsWith(".md") ? [path] : [];
  });
}

/** GitHub's heading anchors: lower case, punctuation dropped (not `-` or `_`), spaces to `-`. */
function anchors(markdown) {
  const seen = new Map();
  const list = new Set();
  for (const line of withoutFences(markdown).split("\n")) {
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line)?.[1];
    if (heading === undefined) continue;
    const text = heading.replace(/!?\[([^\]]*)\]\([^)]*\)/g, "$1").replace(/<[^>]+>/g, "").replace(/`/g, "");
    const slug = text
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, "")
      .replace(/\s/g, "-");
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    list.add(n === 0 ? slug : `${slug}-${n}`);
  }
  return list;
}

/** The Markdown without fenced code blocks (whose `#` lines are not headings, whose `](` are not links). */
function withoutFences(markdown) {
  return markdown.replace(/^([ \t]*)(```|~~~)[^\n]*\n[\s\S]*?^\1\2[ \t]*$/gm, "");
}

const files = [join(root, "README.md"), ...markdownFiles(join(root, "docs"))];
const anchorCache = new Map();
for (const file of files) {
  const text = withoutFences(readFileSync(file, "utf8")).replace(/`[^`\n]*`/g, "``");
  const links = [...text.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g), ...text.matchAll(/^\s*\[[^\]]+\]:\s*(\S+)/gm)].map((m) => m[1]);
  for (const link of links) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(link)) continue; // https:, mailto:, …
    const [path, anchor] = link.split("#");
    const target = path === "" ? file : resolve(dirname(file), decodeURI(path));
    const where = relative(root, file);
    if (!existsSync(target)) {
      problems.push(`${where}: link to ${link}: ${relative(root, target)} does not exist`);
      continue;
    }
    if (anchor === undefined || anchor === "" || !target.endsWith(".md") || statSync(target).isDirectory()) continue;
    if (!anchorCache.has(target)) anchorCache.set(target, anchors(readFileSync(target, "utf8")));
    if (!anchorCache.get(target).has(anchor.toLowerCase())) problems.push(`${where}: link to ${link}: ${relative(root, target)} has no heading with the anchor #${anchor}`);
  }
}

if (problems.length > 0) {
  console.error(`check-docs: ${problems.length} problem(s):\n${problems.map((p) => `  ✗ ${p}`).join("\n")}`);
  process.exit(1);
}
console.log(
  `check-docs: ${modules.length} modules named after their subpaths; every function, class and constant has an @example; ${new Set(codes).size} error codes in the troubleshooting guide; links in ${files.length} Markdown files resolve`,
);
