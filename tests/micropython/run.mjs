// Run Python code under the real MicroPython interpreter (the WebAssembly port) in Node.js.
//
//   node tests/micropython/run.mjs [--copy HOSTDIR[:FSDIR]]... (-c CODE | FILE.py)
//
// Each --copy copies a host directory (recursively, .py files and data) into the interpreter's
// in-memory filesystem at FSDIR (default /<basename>); "/" is on sys.path. Output goes to stdout;
// an uncaught Python exception prints its traceback and exits with status 1.
import fs from "node:fs";
import path from "node:path";
import { loadMicroPython } from "@micropython/micropython-webassembly-pyscript";

function parseArgs(argv) {
  const copies = [];
  let code = null;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--copy") copies.push(argv[++i]);
    else if (argv[i] === "-c") code = argv[++i];
    else code = fs.readFileSync(argv[i], "utf8");
  }
  if (code === null) throw new Error("usage: run.mjs [--copy HOST[:FS]]... (-c CODE | FILE.py)");
  return { copies, code };
}

function copyTree(FS, hostDir, fsDir) {
  FS.mkdirTree(fsDir);
  for (const entry of fs.readdirSync(hostDir, { withFileTypes: true })) {
    if (entry.name === "__pycache__" || entry.name.startsWith(".")) continue;
    const host = path.join(hostDir, entry.name);
    const target = fsDir + "/" + entry.name;
    if (entry.isDirectory()) copyTree(FS, host, target);
    else FS.writeFile(target, fs.readFileSync(host));
  }
}

const { copies, code } = parseArgs(process.argv.slice(2));
const mp = await loadMicroPython({
  heapsize: 8 * 1024 * 1024,
  stdout: (line) => process.stdout.write(line + "\n"),
  stderr: (line) => process.stderr.write(line + "\n"),
});
for (const spec of copies) {
  const [host, target] = spec.split(":");
  copyTree(mp.FS, path.resolve(host), target || "/" + path.basename(path.resolve(host)));
}
try {
  mp.runPython("import sys\nif '/' not in sys.path: sys.path.insert(0, '/')\n" + code);
} catch (err) {
  process.stderr.write(String(err.message || err) + "\n");
  process.exit(1);
}
