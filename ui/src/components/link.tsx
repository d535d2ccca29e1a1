import type { ComponentChildren, JSX } from 'preact';
import { onLinkClick } from '../router.ts';

export function Link(props: { href: string; children: ComponentChildren } & Omit<JSX.HTMLAttributes<HTMLAnchorElement>, 'href'>) {
  const { href, children, ...rest } = props;
  return (
    <a href={href} onClick={(e) => onLinkClick(e, href)} {...rest}>
      {children}
    </a>
  );
}
