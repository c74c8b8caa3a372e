import net from 'node:net';

/** Whether something accepts TCP connections on 127.0.0.1:port (launcher tests: started, and gone after stop). */
export function isListening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
