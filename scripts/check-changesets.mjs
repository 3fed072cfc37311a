// `npm run check:changesets`: every pending changeset is well formed (names this package with
// a valid bump and has a summary), and `changeset version`, run on a scratch copy of
// package.json and .changeset/, bumps the version and writes a CHANGELOG that contains each
// summary. The repository itself is never modified.
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
const problems = [];
const BUMPS = ["patch", "minor", "major"];

const files = readdirSync(join(root, ".changeset")).filter((f) => f.endsWith(".md") && f !== "README.md");
const summaries = [];
let bump = -1;
for (const file of files) {
  const text = readFileSync(join(root, ".changeset", file), "utf8");
  const match = /^---\r?\n([\s\S]*?)\r?\n---\r?\n([\s\S]*)$/.exec(text);
  if (!match) {
    problems.push(`.changeset/${file}: no front matter (--- "${pkg.name}": patch | minor | major ---)`);
    continue;
  }
  const releases = match[1].split(/\r?\n/).filter((line) => line.trim() !== "");
  for (const line of releases) {
    const release = /^\s*["']?([^"':]+)["']?\s*:\s*(\w+)\s*$/.exec(line);
    if (!release) problems.push(`.changeset/${file}: cannot read "${line}"`);
    else if (release[1] !== pkg.name) problems.push(`.changeset/${file}: names "${release[1]}", not "${pkg.name}"`);
    else if (!BUMPS.includes(release[2])) problems.push(`.changeset/${file}: "${release[2]}" is not one of ${BUMPS.join(", ")}`);
    else bump = Math.max(bump, BUMPS.indexOf(release[2]));
  }
  if (releases.length === 0) problems.push(`.changeset/${file}: releases nothing`);
  const summary = match[2].trim();
  if (summary === "") problems.push(`.changeset/${file}: no summary: say what changed for users`);
  else summaries.push({ file, firstLine: summary.split(/\r?\n/)[0].trim() });
}

if (files.length > 0 && problems.length === 0) {
  const scratch = mkdtempSync(join(tmpdir(), "hookguard-changesets-"));
  try {
    cpSync(join(root, "package.json"), join(scratch, "package.json"));
    cpSync(join(root, ".changeset"), join(scratch, ".changeset"), { recursive: true });
    if (existsSync(join(root, "CHANGELOG.md"))) cpSync(join(root, "CHANGELOG.md"), join(scratch, "CHANGELOG.md"));
    // The changelog generator named in .changeset/config.json resolves from the project.
    symlinkSync(join(root, "node_modules"), join(scratch, "node_modules"), "dir");
    const bin = join(createRequire(import.meta.url).resolve("@changesets/cli/package.json"), "..", "bin.js");
    execFileSync(process.execPath, [bin, "version"], { cwd: scratch, stdio: "pipe" });

    const after = JSON.parse(readFileSync(join(scratch, "package.json"), "utf8"));
    const expected = nextVersion(pkg.version, BUMPS[bump]);
    if (after.version !== expected) problems.push(`changeset version: version ${after.version}, expected ${expected} (${BUMPS[bump]} from ${pkg.version})`);
    const changelog = existsSync(join(scratch, "CHANGELOG.md")) ? readFileSync(join(scratch, "CHANGELOG.md"), "utf8") : "";
    if (!changelog.includes(`## ${expected}`)) problems.push(`changeset version: CHANGELOG.md has no "## ${expected}" section`);
    for (const { file, firstLine } of summaries) {
      if (!changelog.includes(firstLine)) problems.push(`changeset version: CHANGELOG.md lacks the summary of .changeset/${file}`);
    }
    const left = readdirSync(join(scratch, ".changeset")).filter((f) => f.endsWith(".md") && f !== "README.md");
    if (left.length > 0) problems.push(`changeset version: did not consume ${left.join(", ")}`);
    if (process.argv.includes("--print")) console.log(changelog);
  } catch (error) {
    problems.push(`changeset version failed: ${error.stderr?.toString() || error.message}`);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

function nextVersion(version, kind) {
  const [major, minor, patch] = version.split("-")[0].split(".").map(Number);
  // Changesets' 0.x rule is plain SemVer: a minor bump of 0.0.0 is 0.1.0, a major one 1.0.0.
  if (kind === "major") return `${major + 1}.0.0`;
  if (kind === "minor") return `${major}.${minor + 1}.0`;
  return `${major}.${minor}.${patch + 1}`;
}

if (problems.length > 0) {
  console.error(`check-changesets: ${problems.length} problem(s):\n${problems.map((p) => `  ✗ ${p}`).join("\n")}`);
  process.exit(1);
}
console.log(
  files.length === 0
    ? "check-changesets: no pending changesets"
    : `check-changesets: ${files.length} pending changeset(s), well formed; changeset version would release ${nextVersion(pkg.version, BUMPS[bump])} (${BUMPS[bump]}) with a CHANGELOG entry for each`,
);
