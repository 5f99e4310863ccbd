/**
 * What is protected and what is not, in plain words — the README's threat model, nothing
 * more (keep the two in step).
 */
export function PrivacyPanel () {
  return (
    <section className='panel privacy' aria-labelledby='privacy-heading'>
      <h2 id='privacy-heading'>What is protected</h2>
      <ul>
        <li><strong>Your prompt, the answer, and every step in between</strong> are encrypted in this tab before anything leaves it (homomorphic encryption, 128-bit security). Miners compute on the encrypted numbers and cannot read them; neither can the relay, validators or the network.</li>
        <li><strong>Your secret key</strong> is made in this tab's encryption worker and never leaves it.</li>
        <li><strong>Wrong answers are caught:</strong> every result a miner returns is checked before it is used; a result that fails is thrown away and computed elsewhere, and the miner is told nothing.</li>
        <li><strong>Your conversations</strong> are kept in this browser only.</li>
      </ul>
      <h3>What is not hidden</h3>
      <ul>
        <li>Which model you use, how many tokens an answer has, and when and how fast it was made.</li>
        <li>Message sizes — they depend only on the model, never on your words.</li>
        <li>That your browser takes part: the relay and the miners see its network address, as any website does.</li>
        <li>The model's weights are public; hiding them is not a goal.</li>
        <li>This is encrypted inference, not a zero-knowledge proof.</li>
      </ul>
    </section>
  )
}
