// Markdown a person or an agent wrote (a brief, a plan), rendered by `marked` (GFM) and sanitized by
// DOMPurify before it reaches the DOM. Raw HTML in the Markdown is shown as text, never parsed:
// even an inert parse (DOMPurify's) makes Chromium try `<img onerror>`, which only the page's CSP
// stops. Images render as their alt text (a remote image would be refused by the CSP anyway).
import DOMPurify from 'dompurify';
import { Marked } from 'marked';
import { useMemo } from 'react';

const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const marked = new Marked({
  gfm: true,
  breaks: false,
  renderer: {
    html: ({ text }) => escapeHtml(text),
    image: ({ text }) => escapeHtml(text),
  },
});

let hooked = false;
function purify(): typeof DOMPurify {
  if (!hooked) {
    hooked = true;
    // Links leave the dashboard in a new tab, without a referrer or a handle on this window.
    DOMPurify.addHook('afterSanitizeAttributes', (node) => {
      if (node.tagName === 'A' && node.getAttribute('href')) {
        node.setAttribute('target', '_blank');
        node.setAttribute('rel', 'noopener noreferrer');
      }
    });
  }
  return DOMPurify;
}

/** Sanitized HTML for `text`. */
export function renderMarkdown(text: string): string {
  const html = marked.parse(text, { async: false });
  return purify().sanitize(html, { USE_PROFILES: { html: true }, FORBID_TAGS: ['style', 'img', 'form', 'input', 'button', 'textarea', 'select'], FORBID_ATTR: ['style'] });
}

export default function MarkdownHtml({ text, className }: { text: string; className?: string }) {
  const html = useMemo(() => renderMarkdown(text), [text]);
  return <div className={`markdown${className ? ` ${className}` : ''}`} dangerouslySetInnerHTML={{ __html: html }} />;
}
