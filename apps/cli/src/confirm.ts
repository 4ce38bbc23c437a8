import { confirm } from '@inquirer/prompts';
import { CliError, EXIT } from './errors.ts';
import { note } from './output.ts';

/**
 * Shows the plan (keys only, never values) and asks. --yes skips the question; without a terminal
 * and without --yes the CLI refuses instead of guessing.
 */
export async function confirmPlan(plan: string[], options: { yes?: boolean }): Promise<void> {
  for (const line of plan) note(line);
  if (options.yes) return;
  if (!process.stdin.isTTY) {
    throw new CliError(
      'refusing to ask for confirmation without a terminal: pass --yes to confirm from a script',
      EXIT.aborted,
    );
  }
  let ok: boolean;
  try {
    ok = await confirm({ message: 'Apply these changes?', default: false }, { output: process.stderr });
  } catch (err) {
    // Ctrl-C or a closed terminal during the question.
    if ((err as Error).name === 'ExitPromptError')
      throw new CliError('aborted; nothing was changed', EXIT.aborted);
    throw err;
  }
  if (!ok) throw new CliError('aborted; nothing was changed', EXIT.aborted);
}
