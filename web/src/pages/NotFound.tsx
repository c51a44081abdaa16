// Any path the dashboard does not know: say so, instead of silently showing the board.
import { Link } from '../ui/router.js';

export function NotFound({ path }: { path: string }) {
  return (
    <div className="empty" data-testid="not-found">
      <h1>Page not found</h1>
      <p>
        Nothing lives at <code>{path}</code>.
      </p>
      <p>
        <Link href="/">Back to the board</Link>
      </p>
    </div>
  );
}
