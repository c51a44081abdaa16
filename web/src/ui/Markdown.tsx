// Rendered Markdown, loaded on first use: the renderer and sanitizer (marked + DOMPurify) are a
// separate chunk, so the board loads without them.
import { lazy, Suspense } from 'react';

const MarkdownHtml = lazy(() => import('./markdown-render.js'));

export function Markdown({ text, className }: { text: string; className?: string }) {
  return (
    <Suspense fallback={<pre className="markdown-loading">{text}</pre>}>
      <MarkdownHtml text={text} {...(className ? { className } : {})} />
    </Suspense>
  );
}
