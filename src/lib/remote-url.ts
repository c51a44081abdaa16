// Remote URLs as people see them: a password or token in a URL's userinfo is never printed.

/** A URL with its password (or token) replaced, for anything a person or a log reads. */
export const redactRemote = (remote: string): string => remote.replace(/^([a-z][a-z0-9+.-]*:\/\/[^/:@]*):[^/@]*@/i, '$1:***@');
