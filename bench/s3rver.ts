/* s3rver as its own process for bench/s3.ts (its memory must not count as Tideway's): PORT=… DIR=… bun bench/s3rver.ts */
import S3rver from 's3rver';

const server = new S3rver({
  port: Number(process.env.PORT ?? 0),
  address: '127.0.0.1',
  silent: true,
  directory: process.env.DIR!,
});
const { port } = await server.run();
console.log(JSON.stringify({ msg: 's3rver listening', port }));
