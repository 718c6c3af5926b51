// npm run build: bundles the two pages' scripts and the passphrase-strength module
// (self-contained; the one import left is the sign-up page's runtime import of strength.js)
// into dist/, and copies the HTML and the stylesheet next to them.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';

const here = (path) => new URL(path, import.meta.url);
const dist = here('dist/');
rmSync(dist, { recursive: true, force: true });
mkdirSync(dist, { recursive: true });

await build({
  entryPoints: {
    login: 'src/pages/login-page.js',
    signup: 'src/pages/signup-page.js',
    // zxcvbn and its dictionaries (~800 KB), fetched by the sign-up page once it is shown.
    strength: 'src/strength.js',
  },
  absWorkingDir: new URL('.', import.meta.url).pathname,
  outdir: 'dist',
  bundle: true,
  format: 'esm',
  platform: 'browser',
  // BigInt literals and top-level ES2020 features; every browser with WebCrypto has them.
  target: ['es2020'],
  minify: true,
  legalComments: 'eof',
  sourcemap: false,
  logLevel: 'warning',
});

for (const file of ['login.html', 'signup.html', 'style.css']) {
  copyFileSync(here(`pages/${file}`), here(`dist/${file}`));
}
console.log('built dist/{login,signup,strength}.js, dist/login.html, dist/signup.html, dist/style.css');
