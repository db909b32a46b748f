// Debian's docker-registry (CNCF distribution 2.8) for end-to-end tests: served over TLS with a
// certificate made here by openssl, with an htpasswd user. Everything stays on loopback.
import { spawn, execFileSync, type ChildProcess } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';

export interface TlsRegistry {
  url: string;
  /** SHA-256 fingerprint of its certificate, as `AB:CD:…`. */
  fingerprint: string;
  stop(): void;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

async function listening(port: number, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`docker-registry exited with ${child.exitCode}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => { s.destroy(); resolve(true); });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`docker-registry did not listen on ${port}`);
}

/** Starts a TLS registry on 127.0.0.1 that accepts `user`/`password`. */
export async function startTlsRegistry(user: string, password: string): Promise<TlsRegistry> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wharf-e2e-registry-'));
  const cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=wharf-e2e-registry',
    '-addext', 'subjectAltName=IP:127.0.0.1',
  ], { stdio: 'ignore' });
  const fingerprint = execFileSync('openssl', ['x509', '-in', cert, '-noout', '-fingerprint', '-sha256'])
    .toString().trim().split('=')[1];
  fs.writeFileSync(path.join(dir, 'htpasswd'), execFileSync('htpasswd', ['-Bbn', user, password]));
  const port = await freePort();
  fs.writeFileSync(path.join(dir, 'config.yml'), [
    'version: 0.1',
    'log:', '  level: error',
    'storage:', '  filesystem:', `    rootdirectory: ${dir}/data`,
    'auth:', '  htpasswd:', '    realm: wharf-e2e', `    path: ${dir}/htpasswd`,
    'http:', `  addr: 127.0.0.1:${port}`, '  tls:', `    certificate: ${cert}`, `    key: ${key}`,
    '',
  ].join('\n'));
  const child = spawn('docker-registry', ['serve', path.join(dir, 'config.yml')], { stdio: 'ignore' });
  await listening(port, child);
  return {
    url: `https://127.0.0.1:${port}`,
    fingerprint,
    stop() {
      child.kill();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface PlainRegistry {
  port: number;
  stop(): void;
}

/** A free loopback port. */
export async function freeLoopbackPort(): Promise<number> {
  return freePort();
}

/**
 * Starts an anonymous plain-http registry on `port` that sends its notifications (CNCF
 * distribution's `notifications.endpoints`) to `url`.
 */
export async function startNotifyingRegistry(port: number, url: string): Promise<PlainRegistry> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wharf-e2e-notify-'));
  fs.writeFileSync(path.join(dir, 'config.yml'), [
    'version: 0.1',
    'log:', '  level: error',
    'storage:', '  filesystem:', `    rootdirectory: ${dir}/data`,
    'http:', `  addr: 127.0.0.1:${port}`,
    'notifications:', '  endpoints:', '    - name: wharf', `      url: "${url}"`,
    '      timeout: 2s', '      threshold: 3', '      backoff: 1s',
    '',
  ].join('\n'));
  const child = spawn('docker-registry', ['serve', path.join(dir, 'config.yml')], { stdio: 'ignore' });
  await listening(port, child);
  return {
    port,
    stop() {
      child.kill();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Pushes a small real image (an OCI layout made here: one gzip'd tar layer and its config) to
 * the registry on `port` as `repository:tag` with skopeo; returns the manifest digest.
 */
export function pushImage(port: number, repository: string, tag: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wharf-e2e-image-'));
  try {
    const blobs = path.join(dir, 'img', 'blobs', 'sha256');
    fs.mkdirSync(blobs, { recursive: true });
    fs.mkdirSync(path.join(dir, 'src'));
    fs.writeFileSync(path.join(dir, 'src', 'hello.txt'), `${repository}:${tag}\n`);
    execFileSync('tar', ['cf', 'layer.tar', '-C', 'src', 'hello.txt'], { cwd: dir });
    const diff = fs.readFileSync(path.join(dir, 'layer.tar'));
    execFileSync('gzip', ['-n', '-k', 'layer.tar'], { cwd: dir });
    const layer = fs.readFileSync(path.join(dir, 'layer.tar.gz'));
    const put = (bytes: Buffer): [string, number] => {
      const h = crypto.createHash('sha256').update(bytes).digest('hex');
      fs.writeFileSync(path.join(blobs, h), bytes);
      return [`sha256:${h}`, bytes.length];
    };
    const sha = (b: Buffer) => `sha256:${crypto.createHash('sha256').update(b).digest('hex')}`;
    const [layerDigest, layerSize] = put(layer);
    const [configDigest, configSize] = put(Buffer.from(JSON.stringify({
      architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [sha(diff)] },
    })));
    const [manifestDigest, manifestSize] = put(Buffer.from(JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: configSize },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: layerDigest, size: layerSize }],
    })));
    fs.writeFileSync(path.join(dir, 'img', 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
    fs.writeFileSync(path.join(dir, 'img', 'index.json'), JSON.stringify({
      schemaVersion: 2,
      manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: manifestDigest, size: manifestSize,
        annotations: { 'org.opencontainers.image.ref.name': tag } }],
    }));
    execFileSync('skopeo', ['copy', '--quiet', '--dest-tls-verify=false',
      `oci:${path.join(dir, 'img')}:${tag}`, `docker://127.0.0.1:${port}/${repository}:${tag}`]);
    return manifestDigest;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
