import type { FormEvent } from 'react';
import { useCommand } from '../../hooks/use-command';
import { Field, Outcome, SendButton, useFields } from './Field';

export function ClientForm() {
  const create = useCommand('client:create');
  const { values, bind, reset } = useFields({ name: '', email: '', phone: '' });
  const errors = create.error?.fields ?? {};

  async function submit(event: FormEvent) {
    event.preventDefault();
    const { name, email, phone } = values;
    if (await create.run({ name, email: email || undefined, phone: phone || undefined })) reset();
  }

  return (
    <form className="panel form" aria-label="New client" onSubmit={submit}>
      <h3>New client</h3>
      <Field label="Name" error={errors.name}>
        <input {...bind('name')} />
      </Field>
      <Field label="Email" error={errors.email}>
        <input {...bind('email')} />
      </Field>
      <Field label="Phone" error={errors.phone}>
        <input {...bind('phone')} />
      </Field>
      <SendButton pending={create.pending}>Create client</SendButton>
      <Outcome command={create} describe={(client) => `Client #${client.id} ${client.name} created.`} />
    </form>
  );
}
