import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { closeSync, openSync, readSync } from 'node:fs'
export { freePort } from '../src/testing/ports.js'

export interface StartedProcess {
  child: ChildProcess
  match: RegExpMatchArray
  /** Where the process's output goes, for reading after a failure. */
  logFile: string
  stop(): Promise<void>
}

/**
 * Starts a child process writing its output straight to `logFile`, and
 * waits for a line of it to match `ready`. Only the start-up output is ever
 * read: once the process is ready the load driver never looks at what it
 * prints, so a server that logs per request costs the driver nothing.
 */
export async function startProcess(args: string[], env: NodeJS.ProcessEnv, ready: RegExp, logFile: string, readyWithinMs = 60_000): Promise<StartedProcess> {
  const fd = openSync(logFile, 'w')
  const child = spawn(process.execPath, args, { env, stdio: ['ignore', fd, fd] })
  closeSync(fd)
  const reader = openSync(logFile, 'r')
  let output = ''
  let position = 0
  try {
    const match = await new Promise<RegExpMatchArray>((resolve, reject) => {
      const chunk = Buffer.alloc(64 * 1024)
      const onExit = (code: number | null) => {
        clearInterval(poll)
        clearTimeout(timer)
        reject(new Error(`exited with ${code}: ${output}${readRest()}`))
      }
      const readRest = () => {
        let text = ''
        for (let n = readSync(reader, chunk, 0, chunk.length, position); n > 0; n = readSync(reader, chunk, 0, chunk.length, position)) {
          position += n
          text += chunk.subarray(0, n).toString()
        }
        return text
      }
      const poll = setInterval(() => {
        output += readRest()
        const found = output.match(ready)
        if (!found) return
        clearInterval(poll)
        clearTimeout(timer)
        child.off('exit', onExit)
        resolve(found)
      }, 20)
      const timer = setTimeout(() => {
        clearInterval(poll)
        child.off('exit', onExit)
        reject(new Error(`timed out waiting for ${ready}: ${output}`))
      }, readyWithinMs)
      child.once('exit', onExit)
    })
    return {
      child,
      match,
      logFile,
      async stop() {
        if (child.exitCode !== null || child.signalCode !== null) return
        const exited = once(child, 'exit')
        child.kill('SIGTERM')
        await exited
      },
    }
  } catch (err) {
    if (child.exitCode === null) child.kill('SIGKILL')
    throw err
  } finally {
    closeSync(reader)
  }
}
